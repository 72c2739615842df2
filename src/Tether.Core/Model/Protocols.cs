using System.Collections.Frozen;

namespace Tether.Core.Model;

/// <summary>How Tether carries a protocol's traffic.</summary>
public enum ProtocolLayer
{
    /// <summary>Proxied at layer 7 (HTTP).</summary>
    Http,
    /// <summary>Proxied at layer 4 over TCP.</summary>
    Tcp,
    /// <summary>Proxied at layer 4 over UDP.</summary>
    Udp,
}

/// <summary>A protocol the API accepts, with its default port (0: none) and how it is carried.</summary>
/// <param name="Name">The exact Rackspace name.</param>
/// <param name="DefaultPort">The default port, 0 when the protocol has none.</param>
/// <param name="Layer">How Tether carries it.</param>
public sealed record ProtocolInfo(string Name, int DefaultPort, ProtocolLayer Layer);

/// <summary>
/// The protocol catalog of <c>GET /loadbalancers/protocols</c> (docs/api.md, Rackspace names and default ports).
/// HTTP is proxied at L7; HTTPS without SSL termination and every other TCP protocol at L4; DNS_UDP, UDP and
/// UDP_STREAM over UDP.
/// </summary>
public static class Protocols
{
    /// <summary>The HTTP protocol name.</summary>
    public const string Http = "HTTP";

    /// <summary>The HTTPS protocol name.</summary>
    public const string Https = "HTTPS";

    /// <summary>Every protocol, in the order the API lists them.</summary>
    public static readonly IReadOnlyList<ProtocolInfo> All =
    [
        new("DNS_TCP", 53, ProtocolLayer.Tcp),
        new("DNS_UDP", 53, ProtocolLayer.Udp),
        new("FTP", 21, ProtocolLayer.Tcp),
        new("HTTP", 80, ProtocolLayer.Http),
        new("HTTPS", 443, ProtocolLayer.Tcp),
        new("IMAPS", 993, ProtocolLayer.Tcp),
        new("IMAPv4", 143, ProtocolLayer.Tcp),
        new("LDAP", 389, ProtocolLayer.Tcp),
        new("LDAPS", 636, ProtocolLayer.Tcp),
        new("MYSQL", 3306, ProtocolLayer.Tcp),
        new("POP3", 110, ProtocolLayer.Tcp),
        new("POP3S", 995, ProtocolLayer.Tcp),
        new("SMTP", 25, ProtocolLayer.Tcp),
        new("TCP", 0, ProtocolLayer.Tcp),
        new("TCP_CLIENT_FIRST", 0, ProtocolLayer.Tcp),
        new("UDP", 0, ProtocolLayer.Udp),
        new("UDP_STREAM", 0, ProtocolLayer.Udp),
        new("SFTP", 22, ProtocolLayer.Tcp),
        new("TCP_STREAM", 0, ProtocolLayer.Tcp),
    ];

    private static readonly FrozenDictionary<string, ProtocolInfo> ByName =
        All.ToFrozenDictionary(p => p.Name, StringComparer.Ordinal);

    /// <summary>Looks a protocol up by its exact name; false when unknown.</summary>
    public static bool TryGet(string? name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ProtocolInfo? info)
    {
        if (name is null) { info = null; return false; }
        return ByName.TryGetValue(name, out info);
    }

    /// <summary>True for protocols carried at layer 4 (TCP or UDP), where persistence timeouts are 60..3600 s.</summary>
    public static bool IsLayer4(string protocol) => !TryGet(protocol, out var p) || p.Layer != ProtocolLayer.Http;
}

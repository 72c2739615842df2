using System.Net;
using System.Net.Sockets;
using Tether.Core.Model;

namespace Tether.Management.Validation;

/// <summary>Field rules shared by the validators.</summary>
internal static class ValidationRules
{
    public const int MinPort = 1;
    public const int MaxPort = 65535;

    /// <summary>The longest cookie name, path or domain accepted, in characters.</summary>
    public const int MaxCookieAttributeLength = 256;

    public static bool IsPort(int port) => port is >= MinPort and <= MaxPort;

    /// <summary>
    /// Parses a node address: an IPv4 literal in dotted-quad form (four decimal parts; <c>IPAddress.TryParse</c>
    /// alone would accept <c>"1"</c>) or an IPv6 literal. Returns the canonical text, or null with the reason.
    /// </summary>
    public static string? ParseNodeAddress(string text, out string? problem)
    {
        problem = null;
        var looksV6 = text.Contains(':', StringComparison.Ordinal);
        if (!looksV6 && !IsDottedQuad(text))
        {
            problem = "must be an IPv4 (dotted quad) or IPv6 address literal";
            return null;
        }

        if (!IPAddress.TryParse(text, out var address)
            || (looksV6 ? address.AddressFamily != AddressFamily.InterNetworkV6 : address.AddressFamily != AddressFamily.InterNetwork))
        {
            problem = "must be an IPv4 (dotted quad) or IPv6 address literal";
            return null;
        }

        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            problem = "must not be the unspecified address";
            return null;
        }

        if (address.Equals(IPAddress.Broadcast) || IsMulticast(address))
        {
            problem = "must be a unicast address";
            return null;
        }

        return address.ToString();
    }

    private static bool IsDottedQuad(string text)
    {
        var parts = text.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit) && int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) <= 255);
    }

    private static bool IsMulticast(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6
        ? address.IsIPv6Multicast
        : (address.GetAddressBytes()[0] & 0xF0) == 0xE0;

    /// <summary>An RFC 6265 cookie-name: an RFC 2616 token (visible ASCII except separators).</summary>
    public static bool IsCookieToken(string value) =>
        value.Length is > 0 and <= MaxCookieAttributeLength && value.All(c => c is > ' ' and < '\x7f' && !"()<>@,;:\\\"/[]?={}".Contains(c, StringComparison.Ordinal));

    /// <summary>An RFC 6265 path-av value that Tether accepts: starts with '/', no ';' and no control characters.</summary>
    public static bool IsCookiePath(string value) =>
        value.Length is > 0 and <= MaxCookieAttributeLength && value[0] == '/' && value.All(c => c is >= ' ' and not '\x7f' and not ';');

    /// <summary>A cookie Domain: host name characters (letters, digits, '-', '.'), an optional leading '.', labels of
    /// 1 to 63 characters, 253 characters at most.</summary>
    public static bool IsCookieDomain(string value)
    {
        var host = value.StartsWith('.') ? value[1..] : value;
        if (host.Length is 0 or > 253)
        {
            return false;
        }

        return host.Split('.').All(label => label.Length is >= 1 and <= 63
            && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
            && label[0] != '-' && label[^1] != '-');
    }

    /// <summary>Whether a protocol is carried over UDP (its listeners never collide with TCP ones).</summary>
    public static bool IsUdp(string protocol) => Protocols.TryGet(protocol, out var info) && info.Layer == ProtocolLayer.Udp;

    /// <summary>Two listen addresses collide when equal, or when they are of the same family and either is that
    /// family's wildcard (<c>0.0.0.0</c> or <c>::</c>). <c>0.0.0.0</c> and <c>::</c> do not collide: the data plane's
    /// IPv6 listeners are IPv6-only (Tether.Proxy ListenSocket).</summary>
    public static bool AddressesOverlap(string a, string b)
    {
        if (string.Equals(a, b, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var v6 = a.Contains(':', StringComparison.Ordinal);
        return v6 == b.Contains(':', StringComparison.Ordinal) && (IsWildcard(a) || IsWildcard(b));
    }

    private static bool IsWildcard(string address) => address is "0.0.0.0" or "::";

    /// <summary>
    /// The first load balancer, other than <paramref name="excludeId"/>, that already listens on an overlapping
    /// address with the same port and transport (TCP or UDP; DNS_TCP and DNS_UDP may share a port, as on Rackspace).
    /// </summary>
    public static LoadBalancerConfig? FindListenerConflict(IEnumerable<LoadBalancerConfig> all, int excludeId,
        string address, int port, string protocol)
    {
        var udp = IsUdp(protocol);
        return all.FirstOrDefault(other => other.Id != excludeId
            && ((other.Port == port && IsUdp(other.Protocol) == udp)
                || (!udp && other.SslTermination is { Enabled: true } ssl && ssl.SecurePort == port))
            && other.VirtualIps.Any(v => AddressesOverlap(v.Address, address)));
    }
}

using System.Net;
using System.Net.Sockets;
using Tether.Core.Health;
using Tether.Core.Model;

namespace Tether.Core.Runtime;

/// <summary>The DNS seam: resolves a host name to its addresses (<see cref="Dns.GetHostAddressesAsync(string, CancellationToken)"/>
/// in production, a fake in tests).</summary>
public interface IHostNameResolver
{
    /// <summary>The addresses of <paramref name="hostName"/>; throws (typically <see cref="SocketException"/>) when
    /// the name does not resolve.</summary>
    Task<IPAddress[]> GetHostAddressesAsync(string hostName, CancellationToken cancellationToken);
}

/// <summary>The system resolver (<see cref="Dns"/>).</summary>
public sealed class DnsHostNameResolver : IHostNameResolver
{
    /// <summary>The one instance.</summary>
    public static readonly DnsHostNameResolver Instance = new();

    /// <inheritdoc />
    public Task<IPAddress[]> GetHostAddressesAsync(string hostName, CancellationToken cancellationToken) =>
        Dns.GetHostAddressesAsync(hostName, cancellationToken);
}

/// <summary>What a node host name resolved to.</summary>
/// <param name="Address">The address the data plane uses, or null when the name did not resolve.</param>
/// <param name="Detail">Why, for the node event (<c>resolved to 127.0.0.1</c>, or the resolver's error).</param>
public readonly record struct ResolvedName(IPAddress? Address, string Detail);

/// <summary>
/// Resolves the host names of a load balancer's nodes, off the hot path: when a change is applied (before the new
/// model is published) and every <c>Proxy:NodeAddressRefreshSeconds</c> (<see cref="RefreshAsync"/>). The rule for
/// several addresses: the first IPv4 address the resolver returns, else the first IPv6 address. A name that does not
/// resolve (an error, no address, or no answer within the timeout) leaves its nodes unavailable, never on a fallback
/// address; see <see cref="LoadBalancerRuntime.SetResolvedAddresses"/>.
/// </summary>
public sealed class NodeAddressResolver
{
    private readonly IHostNameResolver _dns;
    private readonly TimeSpan _timeout;

    /// <summary>Creates a resolver over <paramref name="dns"/>; each name gets <paramref name="timeout"/> to answer.</summary>
    public NodeAddressResolver(IHostNameResolver dns, TimeSpan timeout)
    {
        _dns = dns;
        _timeout = timeout;
    }

    /// <summary>The distinct host names (lower case) among <paramref name="config"/>'s node addresses; empty when every
    /// node is an IP literal.</summary>
    public static IReadOnlyList<string> NamesOf(LoadBalancerConfig config)
    {
        List<string>? names = null;
        foreach (var node in config.Nodes)
        {
            if (!IPAddress.TryParse(node.Address, out _))
            {
                names ??= [];
                var name = node.Address.ToLowerInvariant();
                if (!names.Contains(name))
                {
                    names.Add(name);
                }
            }
        }

        return names ?? (IReadOnlyList<string>)[];
    }

    /// <summary>The address of <paramref name="addresses"/> the data plane uses: the first IPv4, else the first IPv6,
    /// else null (unspecified addresses skipped).</summary>
    public static IPAddress? Choose(IReadOnlyList<IPAddress> addresses)
    {
        IPAddress? v6 = null;
        foreach (var address in addresses)
        {
            if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
            {
                continue;
            }

            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                return address;
            }

            if (address.AddressFamily == AddressFamily.InterNetworkV6 && v6 is null)
            {
                v6 = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            }
        }

        return v6;
    }

    /// <summary>Resolves <paramref name="names"/> at once; never throws for a name that does not resolve (its result
    /// has a null address and the reason).</summary>
    public async Task<Dictionary<string, ResolvedName>> ResolveAsync(IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        var tasks = new Task<ResolvedName>[names.Count];
        for (var i = 0; i < names.Count; i++)
        {
            tasks[i] = ResolveOneAsync(names[i], cancellationToken);
        }

        var results = await Task.WhenAll(tasks).ConfigureAwait(false);
        var map = new Dictionary<string, ResolvedName>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < names.Count; i++)
        {
            map[names[i]] = results[i];
        }

        return map;
    }

    /// <summary>Resolves the node names of <paramref name="runtime"/>'s configuration again and publishes what
    /// changed; returns the node events recorded (a node that stopped or started resolving).</summary>
    public async Task<IReadOnlyList<NodeStatusEvent>> RefreshAsync(LoadBalancerRuntime runtime, CancellationToken cancellationToken)
    {
        var names = NamesOf(runtime.Snapshot.Config);
        if (names.Count == 0)
        {
            return [];
        }

        var results = await ResolveAsync(names, cancellationToken).ConfigureAwait(false);
        return runtime.SetResolvedAddresses(results);
    }

    private async Task<ResolvedName> ResolveOneAsync(string name, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            var addresses = await _dns.GetHostAddressesAsync(name, timeout.Token).ConfigureAwait(false);
            return Choose(addresses) is { } address
                ? new ResolvedName(address, $"Node address '{name}' resolved to {address}")
                : new ResolvedName(null, $"Node address '{name}' did not resolve: no IPv4 or IPv6 address");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ResolvedName(null, $"Node address '{name}' did not resolve: no answer within {_timeout.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is SocketException or ArgumentException or InvalidOperationException)
        {
            return new ResolvedName(null, $"Node address '{name}' did not resolve: {e.Message}");
        }
    }
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Tether.Core.Model;
using Tether.Core.SessionPersistence;

namespace Tether.Core.Runtime;

/// <summary>
/// A load balancer's access list compiled for the connection path (Rackspace v1.0 semantics): an address that matches
/// any ALLOW item is let in; otherwise one that matches any DENY item is refused; an address that matches no item is
/// let in. Every network is held as (network, mask) in the 128-bit key space of <see cref="ClientAddress.ToKey"/>
/// (IPv4 as IPv4-mapped IPv6, so <c>10.0.0.0/8</c> is <c>::ffff:10.0.0.0/104</c>; <c>0.0.0.0/0</c> therefore covers
/// every IPv4 client and no IPv6 one, and <c>::/0</c> covers both).
/// </summary>
/// <remarks>Built off the request path when the configuration changes and published by reference; <see cref="IsAllowed"/>
/// is a linear scan over at most 100 items, takes no lock and allocates nothing.</remarks>
public sealed class AccessListMatcher
{
    /// <summary>The matcher of an empty access list: lets everyone in.</summary>
    public static readonly AccessListMatcher Empty = new([], []);

    private readonly Network[] _allow;
    private readonly Network[] _deny;

    private AccessListMatcher(Network[] allow, Network[] deny)
    {
        _allow = allow;
        _deny = deny;
    }

    /// <summary>True when the list has no item (nothing to check).</summary>
    public bool IsEmpty => _allow.Length == 0 && _deny.Length == 0;

    /// <summary>Compiles <paramref name="items"/>; an item whose address does not parse (never stored: the API
    /// validates it) is skipped.</summary>
    public static AccessListMatcher Build(IEnumerable<AccessListItem> items)
    {
        var allow = new List<Network>();
        var deny = new List<Network>();
        foreach (var item in items)
        {
            if (NetworkAddress.TryParse(item.Address, out var network, out _))
            {
                (item.Type == AccessListType.Allow ? allow : deny).Add(new Network(network.Network, network.Mask));
            }
        }

        return allow.Count == 0 && deny.Count == 0 ? Empty : new AccessListMatcher([.. allow], [.. deny]);
    }

    /// <summary>Whether the client with key <paramref name="clientKey"/> (<see cref="ClientAddress.ToKey"/>) may
    /// connect. No lock, no allocation.</summary>
    public bool IsAllowed(UInt128 clientKey)
    {
        var allow = _allow;
        for (var i = 0; i < allow.Length; i++)
        {
            if ((clientKey & allow[i].Mask) == allow[i].Address)
            {
                return true;
            }
        }

        var deny = _deny;
        for (var i = 0; i < deny.Length; i++)
        {
            if ((clientKey & deny[i].Mask) == deny[i].Address)
            {
                return false;
            }
        }

        return true;
    }

    private readonly record struct Network(UInt128 Address, UInt128 Mask);
}

/// <summary>An IPv4 or IPv6 address or CIDR network parsed into the 128-bit key space of
/// <see cref="ClientAddress.ToKey"/>.</summary>
/// <param name="Network">The network address (host bits zero).</param>
/// <param name="Mask">The prefix mask.</param>
/// <param name="Canonical">The canonical text: the address as <see cref="IPAddress.ToString"/> writes it, with
/// <c>/prefix</c> when one was given.</param>
public readonly record struct NetworkAddress(UInt128 Network, UInt128 Mask, string Canonical)
{
    /// <summary>Parses <c>address</c> or <c>address/prefix</c> (prefix 0..32 for IPv4, 0..128 for IPv6; host bits
    /// must be zero).</summary>
    /// <param name="text">The text.</param>
    /// <param name="network">The parsed network.</param>
    /// <param name="problem">Why the text is not valid (for a 400), or null.</param>
    public static bool TryParse(string text, out NetworkAddress network, out string? problem)
    {
        network = default;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        if (addressText.Length == 0 || !IPAddress.TryParse(addressText, out var address)
            || addressText.Contains('%', StringComparison.Ordinal)
            || (address.AddressFamily == AddressFamily.InterNetwork && addressText.Count(c => c == '.') != 3))
        {
            problem = $"'{text}' is not an IPv4 or IPv6 address or CIDR network";
            return false;
        }

        var v4 = address.AddressFamily == AddressFamily.InterNetwork;
        var maxPrefix = v4 ? 32 : 128;
        var prefix = maxPrefix;
        if (slash >= 0)
        {
            var prefixText = text[(slash + 1)..];
            if (prefixText.Length is 0 or > 3 || !int.TryParse(prefixText, NumberStyles.None, CultureInfo.InvariantCulture, out prefix)
                || prefix > maxPrefix)
            {
                problem = $"'{text}': the prefix length must be from 0 to {maxPrefix}";
                return false;
            }
        }

        var bits = v4 ? 96 + prefix : prefix;
        var mask = bits == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - bits);
        var key = ClientAddress.ToKey(address);
        if ((key & mask) != key)
        {
            problem = $"'{text}': the address has bits set beyond the /{prefix} prefix (the network is {ClientAddress.FromKey(key & mask)}/{prefix})";
            return false;
        }

        problem = null;
        network = new NetworkAddress(key, mask, slash < 0 ? address.ToString() : $"{address}/{prefix.ToString(CultureInfo.InvariantCulture)}");
        return true;
    }
}

using System.Buffers.Binary;
using System.Security.Cryptography;
using Tether.Core.Model;

namespace Tether.Core.SessionPersistence;

/// <summary>
/// The registry of persistence policies: the one place that maps a <see cref="PersistenceType"/> (and its API name) to
/// its policy. A load balancer's snapshot takes its policy from here when it is built.
/// </summary>
public static class PersistencePolicies
{
    /// <summary>No persistence: the algorithm decides.</summary>
    public static readonly IPersistencePolicy None = new BalancedPolicy();

    /// <summary>Every persistence type's policy, in API order. A new type adds one line here.</summary>
    public static readonly IReadOnlyList<IPersistencePolicy> All =
    [
        new HttpCookiePolicy(),
        new AppCookiePolicy(),
        new SourceIpPolicy(),
        new HeaderPolicy(),
    ];

    private static readonly IPersistencePolicy[] ByType = Index();

    /// <summary>The policy of <paramref name="type"/>; <see cref="None"/> for <c>null</c>.</summary>
    public static IPersistencePolicy For(PersistenceType? type) => type is { } t ? ByType[(int)t] : None;

    /// <summary>The policy whose API name is <paramref name="name"/> (exact, upper case).</summary>
    public static bool TryFind(string? name, out IPersistencePolicy policy)
    {
        foreach (var candidate in All)
        {
            if (candidate.Name == name)
            {
                policy = candidate;
                return true;
            }
        }

        policy = None;
        return false;
    }

    private static IPersistencePolicy[] Index()
    {
        var byType = new IPersistencePolicy[Enum.GetValues<PersistenceType>().Length];
        foreach (var policy in All)
        {
            byType[(int)policy.Type!.Value] = policy;
        }

        return byType;
    }
}

/// <summary>Stable, opaque ids of stick-table keys (for paging and for APP_COOKIE keys, which are secrets).</summary>
public static class StickEntryIds
{
    /// <summary>The first 8 bytes of SHA-256 of the key, lower-case hex: reveals neither an address nor a cookie.</summary>
    public static string Of(UInt128 key)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, key);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(bytes, hash);
        return Convert.ToHexStringLower(hash[..8]);
    }
}

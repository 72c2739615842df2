using System.Text;

namespace Tether.Core.SessionPersistence;

/// <summary>
/// Hashes that are the same in every process and on every machine (unlike <see cref="HashCode"/>, which is
/// randomized per process), so that several Tether instances hash a client to the same node.
/// </summary>
public static class StableHash
{
    /// <summary>FNV-1a 64 over the UTF-8 bytes of <paramref name="text"/>, finished with <see cref="Mix"/>.</summary>
    public static ulong Of(string text, ulong seed)
    {
        var hash = 14695981039346656037UL ^ seed;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }

        return Mix(hash);
    }

    /// <summary>The hash of a 128-bit client key. Allocates nothing.</summary>
    public static ulong Of(UInt128 key) => Mix(Mix((ulong)(key >> 64)) ^ (ulong)key);

    /// <summary>The splitmix64 finalizer: a bijective 64-bit mix with good avalanche.</summary>
    public static ulong Mix(ulong x)
    {
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9UL;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebUL;
        x ^= x >> 31;
        return x;
    }
}

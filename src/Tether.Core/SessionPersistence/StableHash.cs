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

    /// <summary>A 128-bit key for an application cookie (APP_COOKIE): two independent 64-bit hashes of
    /// <c>name=value</c>. The stick table stores this key, never the cookie's value (a session secret).
    /// Allocates nothing.</summary>
    public static UInt128 OfCookie(ReadOnlySpan<char> name, ReadOnlySpan<char> value)
    {
        var h1 = 14695981039346656037UL;
        var h2 = 14695981039346656037UL ^ 0x9e3779b97f4a7c15UL;
        Fold(ref h1, ref h2, name);
        Fold(ref h1, ref h2, "=");
        Fold(ref h1, ref h2, value);
        var key = new UInt128(Mix(h1), Mix(h2 ^ 0x632be59bd9b4e019UL));
        return key == UInt128.Zero ? UInt128.One : key;
    }

    private static void Fold(ref ulong h1, ref ulong h2, ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            h1 = (h1 ^ c) * 1099511628211UL;
            h2 = (h2 ^ c) * 0x100000001b3UL * 31;
        }
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

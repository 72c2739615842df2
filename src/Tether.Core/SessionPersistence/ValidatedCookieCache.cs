namespace Tether.Core.SessionPersistence;

/// <summary>
/// A small, lock-free, direct-mapped cache of persistence cookie values that passed HMAC validation, so that a
/// returning client (who sends the same value until it is refreshed, a tenth of the stickiness duration later) costs a
/// hash and a string compare instead of an HMAC. Only values that validated are stored, and a hit requires the exact
/// same value and the same key ring, so a hit is as good as validating again; the idle timeout is still checked on
/// every request. A miss allocates one entry; a hit allocates nothing.
/// </summary>
public sealed class ValidatedCookieCache
{
    private const int Size = 4096;
    private readonly Entry?[] _slots = new Entry?[Size];

    /// <summary>Finds <paramref name="value"/> among the cached validated values for this key ring.</summary>
    /// <returns>True on a hit, with the cookie's fields.</returns>
    public bool TryGet(ReadOnlySpan<char> value, CookieKeyRing keys, out int nodeId, out long sessionId, out long lastUseUnixSeconds)
    {
        var entry = Volatile.Read(ref _slots[Slot(value)]);
        if (entry is not null && ReferenceEquals(entry.Keys, keys) && value.SequenceEqual(entry.Value))
        {
            nodeId = entry.NodeId;
            sessionId = entry.SessionId;
            lastUseUnixSeconds = entry.LastUse;
            return true;
        }

        nodeId = 0;
        sessionId = 0;
        lastUseUnixSeconds = 0;
        return false;
    }

    /// <summary>Remembers a value that just passed <see cref="PersistenceCookie.TryValidate(CookieKeyRing, ReadOnlySpan{char}, int, long, int, out int, out long, out long)"/>.</summary>
    public void Add(ReadOnlySpan<char> value, CookieKeyRing keys, int nodeId, long sessionId, long lastUseUnixSeconds) =>
        Volatile.Write(ref _slots[Slot(value)], new Entry(new string(value), keys, nodeId, sessionId, lastUseUnixSeconds));

    private static int Slot(ReadOnlySpan<char> value)
    {
        // The value ends in 16 bytes of MAC (base64url): its last characters are already uniformly distributed.
        ulong h = 14695981039346656037UL;
        var tail = value.Length > 12 ? value[^12..] : value;
        foreach (var c in tail)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        return (int)(h & (Size - 1));
    }

    private sealed record Entry(string Value, CookieKeyRing Keys, int NodeId, long SessionId, long LastUse);
}

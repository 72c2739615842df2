namespace Tether.Core.SessionPersistence;

/// <summary>An HMAC-SHA256 key of the persistence cookie.</summary>
/// <param name="Id">Key id, 1 to 255; carried inside every cookie so that keys can rotate.</param>
/// <param name="Secret">The secret, at least 32 bytes.</param>
public sealed record CookieKey(byte Id, byte[] Secret);

/// <summary>
/// The keys that sign and validate persistence cookies (docs/session-persistence.md: key id inside, rotation accepts older
/// keys). The newest key (highest id) signs; every key in the ring validates. Immutable; lookups are array indexing.
/// </summary>
public sealed class CookieKeyRing
{
    private readonly byte[]?[] _byId = new byte[]?[256];

    /// <summary>Builds the ring.</summary>
    /// <param name="keys">At least one key; ids must be unique and non-zero; secrets at least 32 bytes.</param>
    /// <exception cref="ArgumentException">No key, a zero or duplicate id, or a short secret.</exception>
    public CookieKeyRing(IEnumerable<CookieKey> keys)
    {
        CookieKey? current = null;
        foreach (var key in keys)
        {
            if (key.Id == 0 || _byId[key.Id] is not null)
            {
                throw new ArgumentException($"Cookie key id {key.Id} is zero or used twice.", nameof(keys));
            }

            if (key.Secret.Length < 32)
            {
                throw new ArgumentException($"Cookie key {key.Id} is shorter than 32 bytes.", nameof(keys));
            }

            _byId[key.Id] = key.Secret;
            if (current is null || key.Id > current.Id)
            {
                current = key;
            }
        }

        Current = current ?? throw new ArgumentException("A cookie key ring needs at least one key.", nameof(keys));
    }

    /// <summary>The key that signs new cookies.</summary>
    public CookieKey Current { get; }

    /// <summary>The secret of key <paramref name="id"/>, or <c>null</c> when the ring does not hold it.</summary>
    public byte[]? Find(byte id) => _byId[id];
}

using Tether.Cluster;
using Tether.Core.SessionPersistence;
using Tether.Management.Auth;
using Tether.Management.Storage;

namespace Tether;

/// <summary>Where <c>tether token</c> and <c>tether keys</c> act: the data directory's SQLite store (a single instance)
/// or, with <c>--redis</c>, the cluster store every instance reads (docs/cluster.md "Tokens and keys").</summary>
internal interface IAdminSecrets
{
    /// <summary>Stores a new token.</summary>
    void AddToken(string token, int accountId, DateTimeOffset created, TokenRole role);

    /// <summary>Every stored token with its grant.</summary>
    IReadOnlyList<(string Token, TokenGrant Grant)> ListTokens();

    /// <summary>Removes a stored token; false when there was none.</summary>
    bool DeleteToken(string token);

    /// <summary>Adds a cookie key with the next id and returns every key; null, with the reason, when it must not.</summary>
    IReadOnlyList<CookieKey>? RotateKey(out string? refusal);

    /// <summary>The cookie keys, ordered by id.</summary>
    IReadOnlyList<CookieKey> ListKeys();
}

/// <summary>The data directory's store, as before cluster mode.</summary>
internal sealed class LocalAdminSecrets(TetherStore store) : IAdminSecrets
{
    public void AddToken(string token, int accountId, DateTimeOffset created, TokenRole role) => store.AddToken(token, accountId, created, role);

    public IReadOnlyList<(string Token, TokenGrant Grant)> ListTokens() => store.ListTokenGrants();

    public bool DeleteToken(string token) => store.DeleteToken(token);

    public IReadOnlyList<CookieKey>? RotateKey(out string? refusal)
    {
        refusal = null;
        store.GetOrCreateCookieKeys();
        return store.AddCookieKey();
    }

    public IReadOnlyList<CookieKey> ListKeys() => store.GetOrCreateCookieKeys();
}

/// <summary>The cluster store (<c>--redis</c>): a change is seen by every instance, tokens from their next API call,
/// keys from their next reload (every purge interval) or the first cookie signed with the new key, whichever comes
/// first. Nothing falls back to a local copy: a store that does not answer is an error.</summary>
internal sealed class ClusterAdminSecrets(ClusterSecrets secrets) : IAdminSecrets
{
    public void AddToken(string token, int accountId, DateTimeOffset created, TokenRole role) => secrets.AddToken(token, accountId, created, role);

    public IReadOnlyList<(string Token, TokenGrant Grant)> ListTokens() => [.. secrets.ReadTokens().Select(t => (t.Token, t.Grant))];

    public bool DeleteToken(string token) => secrets.DeleteToken(token);

    public IReadOnlyList<CookieKey>? RotateKey(out string? refusal)
    {
        // An empty store has seen no instance yet: a key 1 made here would replace the keys the first instance brings
        // from its own database (docs/cluster.md), so cookies it issued before would stop pinning.
        if (secrets.ReadCookieKeys().Count == 0)
        {
            refusal = "the cluster store holds no cookie keys yet; start an instance with --redis first (it stores its keys), then rotate";
            return null;
        }

        refusal = null;
        return secrets.AddCookieKey();
    }

    public IReadOnlyList<CookieKey> ListKeys() => secrets.ReadCookieKeys();
}

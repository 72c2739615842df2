using Tether.Core.Model;
using Tether.Core.SessionPersistence;

namespace Tether.Management.Storage;

/// <summary>
/// Where the configuration is authoritative (issue 14): the load balancers, the id sequences, the API tokens and the
/// persistence cookie keys. A single instance uses its SQLite <see cref="TetherStore"/>; cluster mode uses the shared
/// Redis store (Tether.Cluster), and the local SQLite then keeps only the last configuration it saw.
/// </summary>
/// <remarks>Every write is atomic: all of it is stored, or none of it. A store that cannot be reached throws
/// <see cref="ConfigurationStoreUnavailableException"/> (the API answers 503, nothing changes); a change based on a
/// configuration that another instance changed meanwhile throws <see cref="ConfigurationConflictException"/> (422).</remarks>
internal interface IConfigurationStore
{
    /// <summary>Every load balancer, of every account, ordered by id.</summary>
    IReadOnlyList<LoadBalancerConfig> LoadAll();

    /// <summary>Inserts or replaces load balancers and appends <paramref name="audit"/> (when given), atomically.</summary>
    void Save(Audit.AuditEntry? audit, params IReadOnlyCollection<LoadBalancerConfig> configs);

    /// <summary>Deletes load balancers by id and appends <paramref name="audits"/>, atomically.</summary>
    void Delete(IReadOnlyCollection<Audit.AuditEntry> audits, IReadOnlyCollection<int> ids);

    /// <summary>Reserves <paramref name="count"/> (1 or more) consecutive ids of a sequence (<see cref="Sequences"/>)
    /// and returns the first; ids are never reused.</summary>
    int NextIds(string sequence, int count = 1);

    /// <summary>The account and role of a stored token, or null.</summary>
    Auth.TokenGrant? FindToken(string token);

    /// <summary>Every stored token with its account.</summary>
    IReadOnlyList<(string Token, int AccountId)> ListTokens();

    /// <summary>Stores a token (a token already stored is re-assigned).</summary>
    void AddToken(string token, int accountId, DateTimeOffset created, Auth.TokenRole role = Auth.TokenRole.Admin);

    /// <summary>The cookie keys ordered by id, creating key 1 (32 random bytes) when there is none.</summary>
    IReadOnlyList<CookieKey> GetOrCreateCookieKeys();
}

/// <summary>The configuration store cannot be reached (cluster mode: Redis is down); nothing was written.</summary>
/// <param name="message">What failed.</param>
/// <param name="inner">The client's exception.</param>
public sealed class ConfigurationStoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The change was based on a load balancer that another instance changed meanwhile (cluster mode); nothing
/// was written.</summary>
/// <param name="loadBalancerId">The load balancer changed meanwhile.</param>
public sealed class ConfigurationConflictException(int loadBalancerId)
    : Exception($"Load balancer {loadBalancerId} was changed meanwhile through another instance.")
{
    /// <summary>The load balancer changed meanwhile.</summary>
    public int LoadBalancerId { get; } = loadBalancerId;
}

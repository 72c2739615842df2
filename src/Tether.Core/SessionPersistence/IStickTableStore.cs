namespace Tether.Core.SessionPersistence;

/// <summary>One stick-table entry as stored: wall-clock time, so that it means the same after a restart.</summary>
/// <param name="Key">The key (client address key, application cookie key, or HTTP_COOKIE session id).</param>
/// <param name="NodeId">The node it is pinned to.</param>
/// <param name="LastUse">When it was last used (UTC).</param>
public readonly record struct StoredStickEntry(UInt128 Key, int NodeId, DateTimeOffset LastUse);

/// <summary>
/// Where stick tables are kept across restarts (issue 3: APP_COOKIE and SOURCE_IP persistence survive a restart).
/// The embedded store implements it with SQLite; a shared store can implement it for several instances.
/// </summary>
public interface IStickTableStore
{
    /// <summary>The stored entries of a load balancer for persistence type <paramref name="persistenceType"/>
    /// (entries of another type are not returned).</summary>
    IReadOnlyList<StoredStickEntry> Load(int loadBalancerId, string persistenceType);

    /// <summary>Replaces the stored entries of a load balancer, in one transaction.</summary>
    void Save(int loadBalancerId, string persistenceType, IReadOnlyCollection<StoredStickEntry> entries);

    /// <summary>Forgets every stored entry of a load balancer (it was deleted).</summary>
    void Delete(int loadBalancerId);
}

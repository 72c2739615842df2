using Tether.Core.Model;
using Tether.Core.Runtime;

namespace Tether.Core.SessionPersistence;

/// <summary>
/// The shared copy of one load balancer's stick table, when several instances share one virtual IP (issue 14,
/// docs/cluster.md "Shared stick tables"). The local <see cref="StickTable"/> stays in front and calls it: every write
/// is fire-and-forget (queued, sent off the request path, dropped and counted when the queue is full); only
/// <see cref="FetchAsync"/>, on a local miss, is awaited, and it gives up after a short timeout.
/// </summary>
/// <remarks>Calls from the request path (<see cref="Publish"/>, <see cref="Overwrite"/>, <see cref="Refresh"/>,
/// <see cref="Remove"/>) must not block, lock or allocate; the table throttles <see cref="Refresh"/> to once per
/// quarter of the TTL per entry (<see cref="StickTable.RefreshTicks"/>).</remarks>
public interface IStickTableReplica : IDisposable
{
    /// <summary>A new pin (a key the local table did not hold): written only if no instance pinned the key yet
    /// (<c>SET NX</c>); when another instance won, its node replaces this one in the local table
    /// (<see cref="StickTable.Adopt"/>).</summary>
    /// <param name="key">The stick-table key.</param>
    /// <param name="nodeId">The node (a cluster-stable node id).</param>
    void Publish(UInt128 key, int nodeId);

    /// <summary>A pin moved to another node on purpose (the pinned node could not serve and the client fell back, or
    /// the persistence API moved it): written whatever the store holds.</summary>
    void Overwrite(UInt128 key, int nodeId);

    /// <summary>The entry was used: its shared TTL starts again (<c>PEXPIRE</c>); re-created (<c>SET NX</c> with
    /// <paramref name="nodeId"/>) when the store no longer holds it.</summary>
    void Refresh(UInt128 key, int nodeId);

    /// <summary>The pin ended (APP_COOKIE: the node deleted its cookie).</summary>
    void Remove(UInt128 key);

    /// <summary>The persistence API unpinned every client of <paramref name="nodeId"/> at
    /// <paramref name="unixSeconds"/>: the mark (HTTP_COOKIE cookies of the node last used before it stop pinning) and
    /// the removal of the node's shared pins reach every instance.</summary>
    void UnpinNode(int nodeId, long unixSeconds);

    /// <summary>The shared pin of <paramref name="key"/> after a local miss: its node id, or 0 when the store holds
    /// none, is away, or does not answer within the fetch timeout. Never throws for a store failure.</summary>
    ValueTask<int> FetchAsync(UInt128 key, CancellationToken cancellationToken);
}

/// <summary>
/// Creates the <see cref="IStickTableReplica"/> of a load balancer's stick table (cluster mode; registered by
/// <c>services.AddClusterStickTables()</c> in Tether.Cluster). Absent in single-instance mode.
/// </summary>
public interface IStickTableReplication
{
    /// <summary>The replica of <paramref name="runtime"/>'s table for persistence <paramref name="type"/>. Called off
    /// the request path when the table is built (the load balancer is created, or its persistence type changed);
    /// disposed when the table is dropped.</summary>
    /// <param name="runtime">The load balancer's runtime (shared unpin marks are applied through
    /// <see cref="LoadBalancerRuntime.ApplySharedUnpin"/>).</param>
    /// <param name="type">The persistence type (part of every shared key, so pins of another type never match).</param>
    /// <param name="table">The local table (pins another instance won are adopted into it).</param>
    IStickTableReplica Create(LoadBalancerRuntime runtime, PersistenceType type, StickTable table);
}

using Tether.Core.LoadBalancing;
using Tether.Core.Runtime;

namespace Tether.Core.SessionPersistence;

/// <summary>
/// What a policy decides with: the snapshot the request read once, the stick table, the time, and whether this is a
/// read-only lookup (<see cref="LoadBalancerRuntime.Explain(in PersistenceRequest)"/>). Every write and the algorithm's pick go through here,
/// so read-only mode is enforced in one place.
/// </summary>
public readonly struct PersistenceScope
{
    internal PersistenceScope(LoadBalancerRuntime runtime, LoadBalancerSnapshot snapshot, long now, bool readOnly)
    {
        Runtime = runtime;
        Snapshot = snapshot;
        Table = snapshot.StickTable;
        Now = now;
        ReadOnly = readOnly;
    }

    /// <summary>The runtime (keys, cookie cache, clock).</summary>
    public LoadBalancerRuntime Runtime { get; }

    /// <summary>The load balancer's model, read once for the request.</summary>
    public LoadBalancerSnapshot Snapshot { get; }

    /// <summary>The stick table (it owns its idle TTL).</summary>
    public IStickTable Table { get; }

    /// <summary>Now, as a <see cref="TimeProvider.GetTimestamp"/> value.</summary>
    public long Now { get; }

    /// <summary>True for the persistence API's lookup: nothing is recorded, nothing is picked.</summary>
    public bool ReadOnly { get; }

    /// <summary>A live pin of <paramref name="key"/>, without refreshing it.</summary>
    public bool Peek(UInt128 key, out int nodeId) => Table.TryPeek(key, Now, out nodeId);

    /// <summary>A live pin of <paramref name="key"/>, refreshed (a request) or only read (a lookup).</summary>
    public bool Touch(UInt128 key, out int nodeId) =>
        ReadOnly ? Table.TryPeek(key, Now, out nodeId) : Table.TryGet(key, Now, out nodeId);

    /// <summary>Pins <paramref name="key"/> to <paramref name="nodeId"/> (not in read-only mode).</summary>
    public void Pin(UInt128 key, int nodeId)
    {
        if (!ReadOnly)
        {
            Table.Set(key, nodeId, Now);
        }
    }

    /// <summary>The algorithm's pick (PRIMARY first, then SECONDARY); <c>null</c> when none can take the request,
    /// and always in read-only mode (the algorithm decides at request time).</summary>
    public NodeState? Pick() => ReadOnly ? null : LoadBalancerRuntime.Pick(Snapshot, Now);

    /// <summary>The decision when <see cref="Pick"/> found nothing: 503, or "balanced" for a lookup.</summary>
    public PersistenceDecision Unplaced() =>
        new(null, ReadOnly ? SelectionOutcome.Balanced : SelectionOutcome.NoNodeAvailable);

    /// <summary>The node a client pinned to <paramref name="pinned"/> may use now, or <c>null</c> (unknown node, or one
    /// that cannot serve pinned clients).</summary>
    public NodeState? Serving(NodeState? pinned) => pinned is not null && pinned.CanServePinned(Now) ? pinned : null;

    /// <summary>The pinned node cannot serve: true when the failure policy refuses the client
    /// (<paramref name="rejection"/> is then the answer); false when the client falls back and is re-pinned.</summary>
    public bool Rejects(NodeState? pinned, out PersistenceDecision rejection) =>
        Snapshot.FailurePolicy.Rejects(pinned, out rejection);
}

namespace Tether.Management.OpenApi.Schemas;

/// <summary><c>{"sessions":[...]}</c>: the persisted entries Tether knows (docs/session-persistence.md).</summary>
internal sealed class SessionList
{
    /// <summary>A page of entries (by <c>id</c>; <c>marker</c> continues after the last one).</summary>
    public required IReadOnlyList<PersistedSession> Sessions { get; init; }
}

/// <summary>One persisted entry: which client (masked unless <c>Management:MaskClientAddresses</c> is off) is pinned
/// to which node until when.</summary>
internal sealed class PersistedSession
{
    /// <summary>An opaque, stable id for paging.</summary>
    public required string Id { get; init; }

    /// <summary>The persistence type that made the entry.</summary>
    public required string PersistenceType { get; init; }

    /// <summary>The client's key, described (a masked address, a cookie digest...).</summary>
    public required string Key { get; init; }

    /// <summary>The node the client is pinned to.</summary>
    public required int NodeId { get; init; }

    /// <summary>When the client was last seen.</summary>
    public required TimeStamp LastSeen { get; init; }

    /// <summary>When the entry expires.</summary>
    public required TimeStamp Expires { get; init; }
}

/// <summary><c>{"lookup":{"persistenceType"?,"nodeId"?,"reason"}}</c>: which node a client would reach and why.</summary>
internal sealed class SessionLookupEnvelope
{
    /// <summary>The answer.</summary>
    public required SessionLookup Lookup { get; init; }
}

/// <summary>The answer of a lookup.</summary>
internal sealed class SessionLookup
{
    /// <summary>The persistence type in force; absent when persistence is off.</summary>
    public string? PersistenceType { get; init; }

    /// <summary>The node the client would reach; absent when none is decided yet.</summary>
    public int? NodeId { get; init; }

    /// <summary>Why: <c>persisted</c>, <c>hashed</c>, <c>balanced</c>, <c>rejected</c>...</summary>
    public required string Reason { get; init; }
}

/// <summary>The body of <c>POST /sessionpersistence/sessions/move</c> (root key <c>sessionMove</c> optional).</summary>
internal sealed class SessionMoveRequest
{
    /// <summary>The node whose sessions move.</summary>
    public required int FromNodeId { get; init; }

    /// <summary>The node they move to (ENABLED).</summary>
    public required int ToNodeId { get; init; }

    /// <summary>The share to move, 0 &lt; fraction &lt;= 1 (default 1: all).</summary>
    public double? Fraction { get; init; }
}

/// <summary><c>{"moved","remaining"}</c>.</summary>
internal sealed class SessionMoveResult
{
    /// <summary>Sessions moved.</summary>
    public required int Moved { get; init; }

    /// <summary>Live sessions the old node kept.</summary>
    public required int Remaining { get; init; }
}

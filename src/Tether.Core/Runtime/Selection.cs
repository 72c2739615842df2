using Tether.Core.LoadBalancing;

namespace Tether.Core.Runtime;

/// <summary>How a node was chosen for a request or connection, or why none was.</summary>
public enum SelectionOutcome
{
    /// <summary>Session persistence named an available node (a valid cookie or a live stick-table entry).</summary>
    Persisted,
    /// <summary>SOURCE_IP: consistent hashing picked the node; the client is now pinned in the stick table.</summary>
    Hashed,
    /// <summary>Nothing was pinned; the algorithm picked the node.</summary>
    Balanced,
    /// <summary>The pinned node is unavailable and fallback is allowed: the algorithm picked another node and the
    /// client is pinned to it now (seed 002).</summary>
    Repinned,
    /// <summary>The pinned node is unavailable and fallback is disabled: answer 502 (seed 002).</summary>
    RejectedNoFallback,
    /// <summary>No node can take the request: answer 503.</summary>
    NoNodeAvailable,
}

/// <summary>The result of <see cref="LoadBalancerRuntime.Select(LoadBalancerSnapshot, in SessionPersistence.PersistenceRequest)"/>.</summary>
/// <param name="Node">The chosen node, or <c>null</c> for <see cref="SelectionOutcome.RejectedNoFallback"/> and
/// <see cref="SelectionOutcome.NoNodeAvailable"/>.</param>
/// <param name="Outcome">How it was chosen.</param>
/// <param name="IssueCookie">HTTP_COOKIE: the response must carry a new or refreshed persistence cookie.</param>
/// <param name="SessionId">HTTP_COOKIE: the session id to put in that cookie (kept across refreshes).</param>
public readonly record struct Selection(NodeState? Node, SelectionOutcome Outcome, bool IssueCookie, long SessionId = 0);

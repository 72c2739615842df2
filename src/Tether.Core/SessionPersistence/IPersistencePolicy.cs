using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;

namespace Tether.Core.SessionPersistence;

/// <summary>
/// One kind of session persistence (docs/session-persistence.md), after YARP's <c>ISessionAffinityPolicy</c>: it
/// reads its key from a <see cref="PersistenceRequest"/>, finds the node the client is pinned to, places a new client,
/// and records the pin. One sealed class per type, registered in <see cref="PersistencePolicies"/>; the snapshot holds
/// the load balancer's policy, so a request never branches on the type.
/// </summary>
/// <remarks>
/// <see cref="Find"/> is the whole decision for a request AND, with <see cref="PersistenceScope.ReadOnly"/>, the
/// persistence API's lookup (<see cref="LoadBalancerRuntime.Explain(in PersistenceRequest)"/>): one code path, so the two cannot disagree.
/// In read-only mode a policy changes nothing (every write goes through the scope, which drops it) and leaves the
/// algorithm's pick undone (<see cref="PersistenceScope.Pick"/> gives <c>null</c>). No lock, no allocation.
/// </remarks>
public interface IPersistencePolicy
{
    /// <summary>The type, or <c>null</c> for a load balancer without persistence.</summary>
    PersistenceType? Type { get; }

    /// <summary>The API name (<c>HTTP_COOKIE</c> ...; <c>NONE</c> for no persistence).</summary>
    string Name { get; }

    /// <summary>What the policy reads from the request; a data path fills only that.</summary>
    PersistenceInputs Inputs { get; }

    /// <summary>True when the policy reads HTTP (cookies, headers): HTTP load balancers only, refused with 400 on
    /// HTTPS (TLS passed through), TCP and UDP.</summary>
    bool HttpOnly { get; }

    /// <summary>True when a new client is placed by consistent hashing (weighted Maglev over the nodes that take
    /// new clients); the snapshot then builds <see cref="LoadBalancerSnapshot.Maglev"/>.</summary>
    bool HashesNewClients { get; }

    /// <summary>True when the policy learns pins from the node's answer (APP_COOKIE: its Set-Cookie); the data path
    /// then hands the answer's cookies to <see cref="LoadBalancerRuntime.LearnAppCookie"/>.</summary>
    bool LearnsFromAnswer { get; }

    /// <summary>The cookie name a policy uses when the configuration names none (HTTP_COOKIE: <c>tether-{id}</c>;
    /// APP_COOKIE: <c>*</c>), or <c>null</c> when it reads no cookie.</summary>
    string? DefaultCookieName(int loadBalancerId);

    /// <summary>Finds the node for <paramref name="request"/>: the pinned one, a hashed or balanced one for a new or
    /// re-pinned client, a rejection (the failure policy), or none. Records the pin unless read-only.</summary>
    PersistenceDecision Find(in PersistenceScope scope, in PersistenceRequest request);

    /// <summary>The stick-table key <see cref="Find"/> would look up for <paramref name="request"/> when the pin is a
    /// stick-table entry (SOURCE_IP, APP_COOKIE, HEADER), so that cluster mode can fetch a shared pin before the
    /// decision on a local miss (<see cref="LoadBalancerRuntime.MissesSharedState"/>); zero when the request has none
    /// or the type keeps no pins (HTTP_COOKIE: the cookie is the pin; none). No allocation.</summary>
    UInt128 StickKey(in PersistenceRequest request);

    /// <summary>The stick-table key as an operator sees it in the sessions listing (SOURCE_IP the address, masked
    /// when <paramref name="mask"/>; cookie-based types a digest or the session id, never a secret).</summary>
    string DescribeKey(UInt128 key, bool mask);
}

/// <summary>The outcome of <see cref="IPersistencePolicy.Find"/>.</summary>
/// <param name="Node">The chosen node; for <see cref="SelectionOutcome.RejectedNoFallback"/> the pinned node that
/// cannot serve (null when it was removed); null for <see cref="SelectionOutcome.NoNodeAvailable"/> and, in read-only
/// mode, when the algorithm would pick.</param>
/// <param name="Outcome">How it was chosen.</param>
/// <param name="IssueCookie">HTTP_COOKIE: the answer carries a new or refreshed persistence cookie.</param>
/// <param name="SessionId">HTTP_COOKIE: the session id for that cookie.</param>
public readonly record struct PersistenceDecision(NodeState? Node, SelectionOutcome Outcome, bool IssueCookie = false, long SessionId = 0);

using Tether.Core.LoadBalancing;

namespace Tether.Core.Runtime;

/// <summary>Why an attempt to reach a node failed, or why no attempt could be made.</summary>
public enum AttemptFailure
{
    /// <summary>No failure (yet).</summary>
    None,
    /// <summary>No node can take the request or connection (none ENABLED and available): 503, refused at layer 4.</summary>
    NoNodeAvailable,
    /// <summary>Session persistence pinned the client to an unavailable node and fallback is disabled
    /// (<c>disableFallback</c>): 502, refused at layer 4 (seed 002).</summary>
    PersistenceRejected,
    /// <summary>The node refused the connection (TCP reset on connect): held out, retried once, 502.</summary>
    ConnectRefused,
    /// <summary>Connecting to the node failed otherwise (unreachable, no route): held out, retried once, 502.</summary>
    ConnectFailed,
    /// <summary>The node did not accept the connection within the connect timeout: held out, retried once, 502.</summary>
    ConnectTimeout,
    /// <summary>The node did not answer within the load balancer's <c>timeout</c> (seconds): counted as a data timeout,
    /// not held out (one slow answer says the request was slow, not that the node is gone), 504.</summary>
    NodeTimeout,
    /// <summary>The node reset the connection, closed it early or sent an answer that is not valid: 502, not held out.</summary>
    NodeBroken,
    /// <summary>No connection to the node could be opened on Tether's side (its connection limit and queue, no file
    /// descriptor): 503, and the node stays in rotation.</summary>
    NoConnection,
    /// <summary>UDP: the node has no listener on the port (ICMP port unreachable): held out, never retried (the flow
    /// closes; the client's next datagram is placed again).</summary>
    PortUnreachable,
}

/// <summary>What a data path does next (<see cref="AttemptPipeline"/>).</summary>
public enum AttemptStep
{
    /// <summary>Send the request (or open the connection) to the selected node.</summary>
    Try,
    /// <summary>Select again (the failed node is held out now) and try the node that comes back, once.</summary>
    SelectAgain,
    /// <summary>Give up: answer <see cref="AttemptPipeline.Status"/> (HTTP), or refuse/close the client connection
    /// (layer 4).</summary>
    Fail,
}

/// <summary>
/// The attempt pipeline of one request (HTTP) or client connection (TCP, UDP), the same on all four data paths
/// (docs/architecture.md "One attempt pipeline"): availability (a selection without a node fails with 503, or 502 when
/// persistence forbids fallback or after a failed attempt), passive health (a node that failed to connect is held out
/// of rotation for the hold time), retry once elsewhere for what may be retried (a connect failure, fallback enabled,
/// nothing of the request sent and nothing of the answer seen; the path says whether its request may be retried),
/// and the choice of Tether's own status (502/503/504).
/// </summary>
/// <remarks>
/// <para>A path drives it: <see cref="Begin"/>; select (one opaque call of the path:
/// <see cref="LoadBalancerRuntime.Select(LoadBalancerSnapshot, in SessionPersistence.PersistenceRequest)"/> with the request's persistence key); <see cref="OnSelected"/>; on
/// <see cref="AttemptStep.Try"/> attempt the node, then <see cref="OnSuccess"/> or <see cref="OnFailure"/>; on
/// <see cref="AttemptStep.SelectAgain"/> select again and call <see cref="OnSelected"/>; on
/// <see cref="AttemptStep.Fail"/> answer <see cref="Status"/> for <see cref="Failure"/> about
/// <see cref="FailedNode"/>.</para>
/// <para>A mutable struct on the path's stack (or in its async state machine): no allocation, no lock. The active
/// counts (<see cref="NodeCounters.OnStart(bool)"/>/<see cref="NodeCounters.OnEnd(bool)"/>) stay with the path, which alone knows
/// how long its attempt lasts.</para>
/// </remarks>
public struct AttemptPipeline
{
    private readonly LoadBalancerRuntime _runtime;
    private readonly long _holdTicks;
    private readonly bool _fallback;
    private readonly bool _ssl;
    private int _failedAttempts;

    private AttemptPipeline(LoadBalancerRuntime runtime, LoadBalancerSnapshot snapshot, int passiveFailureHoldSeconds, bool ssl)
    {
        _ssl = ssl;
        _runtime = runtime;
        _holdTicks = passiveFailureHoldSeconds * runtime.Time.TimestampFrequency;
        _fallback = snapshot.FallbackEnabled;
    }

    /// <summary>The node of the last failed attempt, or null.</summary>
    public NodeState? FailedNode { get; private set; }

    /// <summary>Why the pipeline failed (or the last attempt did); <see cref="AttemptFailure.None"/> before.</summary>
    public AttemptFailure Failure { get; private set; }

    /// <summary>True after a failed attempt (the next selection is the retry).</summary>
    public readonly bool Retrying => _failedAttempts > 0;

    /// <summary>After <see cref="AttemptStep.Fail"/>: Tether's own HTTP status, 502, 503 or 504 (<see cref="StatusOf"/>).</summary>
    public readonly int Status => StatusOf(Failure);

    /// <summary>Starts the pipeline of one request or connection on <paramref name="snapshot"/> (read once by the
    /// path; its <c>disableFallback</c> decides the retry).</summary>
    /// <param name="runtime">The load balancer's runtime (its clock and statistics).</param>
    /// <param name="snapshot">The configuration the request runs on.</param>
    /// <param name="passiveFailureHoldSeconds">How long a node that failed to connect stays out of rotation, in
    /// seconds (<c>Proxy:PassiveFailureHoldSeconds</c>).</param>
    /// <param name="ssl">True on the SSL termination listener: failures count in the <c>*Ssl</c> statistics
    /// (Rackspace's stats resource keeps the two apart).</param>
    public static AttemptPipeline Begin(LoadBalancerRuntime runtime, LoadBalancerSnapshot snapshot, int passiveFailureHoldSeconds, bool ssl = false) =>
        new(runtime, snapshot, passiveFailureHoldSeconds, ssl);

    /// <summary>Availability: <see cref="AttemptStep.Try"/> when <paramref name="selection"/> named a node, else
    /// <see cref="AttemptStep.Fail"/>: <see cref="AttemptFailure.PersistenceRejected"/> (502) when persistence
    /// forbids fallback, the failure of the previous attempt (502) on a retry that found no other node (counted in
    /// <see cref="PersistenceStatistics.FailedRetries"/>), else <see cref="AttemptFailure.NoNodeAvailable"/> (503).</summary>
    public AttemptStep OnSelected(in Selection selection)
    {
        if (selection.Node is not null)
        {
            return AttemptStep.Try;
        }

        if (selection.Outcome == SelectionOutcome.RejectedNoFallback)
        {
            if (!Retrying)
            {
                Failure = AttemptFailure.PersistenceRejected;
            }
        }
        else if (Retrying)
        {
            // No node after a failed attempt: the failure is the answer (502), not "no node" (503).
            _runtime.Statistics.CountFailedRetry();
        }
        else
        {
            Failure = AttemptFailure.NoNodeAvailable;
        }

        return AttemptStep.Fail;
    }

    /// <summary>Passive health: the node answered (or accepted the connection); it is available again at once.</summary>
    public readonly void OnSuccess(NodeState node) => node.Counters.MarkAvailable();

    /// <summary>An attempt on <paramref name="node"/> failed with <paramref name="failure"/>: counts it on the node,
    /// holds the node out of rotation for a connect failure (and a UDP port unreachable), and decides.</summary>
    /// <param name="node">The node of the attempt.</param>
    /// <param name="failure">What happened.</param>
    /// <param name="mayRetry">The path's rule: nothing of the request was sent that cannot be sent again (no request
    /// body on HTTP) and nothing of the answer reached the client.</param>
    /// <returns><see cref="AttemptStep.SelectAgain"/> for the first connect failure when fallback is enabled and
    /// <paramref name="mayRetry"/>; else <see cref="AttemptStep.Fail"/>.</returns>
    public AttemptStep OnFailure(NodeState node, AttemptFailure failure, bool mayRetry)
    {
        Failure = failure;
        FailedNode = node;
        switch (failure)
        {
            case AttemptFailure.ConnectRefused or AttemptFailure.ConnectFailed:
                node.Counters.CountFailure(NodeFailure.ConnectError, _ssl);
                break;
            case AttemptFailure.ConnectTimeout:
                node.Counters.CountFailure(NodeFailure.ConnectTimeout, _ssl);
                break;
            case AttemptFailure.NodeTimeout:
                node.Counters.CountFailure(NodeFailure.DataTimeout, _ssl);
                break;
        }

        if (IsConnectFailure(failure) || failure == AttemptFailure.PortUnreachable)
        {
            node.Counters.MarkUnavailable(_runtime.Time.GetTimestamp() + _holdTicks);
        }

        if (IsConnectFailure(failure) && mayRetry && _fallback && !Retrying)
        {
            _failedAttempts++;
            return AttemptStep.SelectAgain;
        }

        return AttemptStep.Fail;
    }

    /// <summary>Tether's own HTTP status for <paramref name="failure"/>: 503 when no node could be had
    /// (<see cref="AttemptFailure.NoNodeAvailable"/>, <see cref="AttemptFailure.NoConnection"/>), 504 for
    /// <see cref="AttemptFailure.NodeTimeout"/>, else 502.</summary>
    public static int StatusOf(AttemptFailure failure) => failure switch
    {
        AttemptFailure.NoNodeAvailable or AttemptFailure.NoConnection => 503,
        AttemptFailure.NodeTimeout => 504,
        _ => 502,
    };

    /// <summary>True for the failures of a connect: the request never reached the node.</summary>
    public static bool IsConnectFailure(AttemptFailure failure) =>
        failure is AttemptFailure.ConnectRefused or AttemptFailure.ConnectFailed or AttemptFailure.ConnectTimeout;
}

using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;

namespace Tether.Core.SessionPersistence;

/// <summary>
/// What happens to a client pinned to a node that cannot serve it (seed 002; YARP's <c>IAffinityFailurePolicy</c>):
/// fall back to another node and re-pin (<see cref="FallbackAndRepin"/>, the default), or fail
/// (<see cref="FailWithoutFallback"/>, <c>disableFallback: true</c>): 502 on HTTP, a refused connection at layer 4.
/// The one place this rule is written: every policy and the lookup API ask it.
/// </summary>
public interface IPersistenceFailurePolicy
{
    /// <summary><c>true</c> when a request whose node failed may be tried once on another node (and a pinned client
    /// re-pinned).</summary>
    bool FallsBack { get; }

    /// <summary>True when the client pinned to <paramref name="pinned"/> (null: a node no longer held) is refused;
    /// <paramref name="rejection"/> is then the answer.</summary>
    bool Rejects(NodeState? pinned, out PersistenceDecision rejection);
}

/// <summary>The policies, one instance each.</summary>
public static class PersistenceFailurePolicies
{
    /// <summary>Fallback allowed.</summary>
    public static readonly IPersistenceFailurePolicy FallbackAndRepin = new FallbackAndRepin();

    /// <summary>Fallback disabled.</summary>
    public static readonly IPersistenceFailurePolicy FailWithoutFallback = new FailWithoutFallback();

    /// <summary>The policy of <paramref name="persistence"/> (fallback when persistence is off).</summary>
    public static IPersistenceFailurePolicy For(SessionPersistenceConfig? persistence) =>
        persistence is null || persistence.FallbackEnabled ? FallbackAndRepin : FailWithoutFallback;
}

/// <summary>The pinned client goes to another node (the algorithm's pick, or consistent hashing) and is re-pinned
/// there.</summary>
public sealed class FallbackAndRepin : IPersistenceFailurePolicy
{
    /// <inheritdoc />
    public bool FallsBack => true;

    /// <inheritdoc />
    public bool Rejects(NodeState? pinned, out PersistenceDecision rejection)
    {
        rejection = default;
        return false;
    }
}

/// <summary>The pinned client is refused: 502 on HTTP, a refused connection at layer 4; its pin stays (unrefreshed)
/// so that it reaches its node again when the node is back.</summary>
public sealed class FailWithoutFallback : IPersistenceFailurePolicy
{
    /// <inheritdoc />
    public bool FallsBack => false;

    /// <inheritdoc />
    public bool Rejects(NodeState? pinned, out PersistenceDecision rejection)
    {
        rejection = new PersistenceDecision(pinned, SelectionOutcome.RejectedNoFallback);
        return true;
    }
}

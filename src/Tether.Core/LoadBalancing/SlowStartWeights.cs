namespace Tether.Core.LoadBalancing;

/// <summary>
/// The effective weights of the nodes of one <see cref="NodePool"/> while slow start ramps at least one of them up
/// (built by <see cref="Runtime.SlowStart"/> off the hot path, once per step, and published with
/// <see cref="NodePool.SetSlowStart"/>). A settled node weighs <c>base × Steps</c>, a ramping node <c>base × k</c>
/// with <c>k = min(Steps, 1 + floor(Steps × elapsed / slowStartSeconds))</c>, so a node starts at 5 % of its weight
/// and gains 5 % a step, as HAProxy's <c>server_recalc_eweight</c> does with its <c>slowstart</c> (there 1/16 steps).
/// <c>base</c> is the node's weight for the weighted algorithms and 1 for the others (each node weighs the same, and
/// slow start ramps its share).
/// </summary>
public sealed class SlowStartWeights
{
    /// <summary>The number of steps of a ramp: an effective weight moves in twentieths (5 %) of the node's weight.</summary>
    public const int Steps = 20;

    /// <summary>Creates the weights and their smooth weighted round-robin schedule.</summary>
    /// <param name="weights">Per index of <see cref="NodePool.Nodes"/>, the effective weight (at least 1), in
    /// units of 1/<see cref="Steps"/> of a weight.</param>
    public SlowStartWeights(int[] weights)
    {
        Weights = weights;
        Schedule = SmoothWeightedSchedule.Build(weights);
    }

    /// <summary>Per index of <see cref="NodePool.Nodes"/>, the effective weight in units of 1/<see cref="Steps"/>.</summary>
    public int[] Weights { get; }

    /// <summary>Indexes into <see cref="NodePool.Nodes"/>: one period of smooth weighted round robin over
    /// <see cref="Weights"/> (used by WEIGHTED_ROUND_ROBIN and ROUND_ROBIN during the ramp).</summary>
    public int[] Schedule { get; }
}

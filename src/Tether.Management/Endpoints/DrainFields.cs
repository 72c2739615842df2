using System.Text.Json.Nodes;
using Tether.Core.Model;
using Tether.Core.Runtime;

namespace Tether.Management.Endpoints;

/// <summary>
/// Drain progress in the node representations (issue 13; additive): with a live runtime, <c>GET .../nodes</c> and
/// <c>GET .../nodes/{nodeId}</c> show for every node <c>persistedSessions</c> (live stick-table entries pinned to it)
/// and <c>activeConnections</c> (requests in flight on HTTP, open connections or flows at layer 4), and for a DRAINING
/// node <c>drained</c> (true once both reached zero and the <c>drained</c> node event was recorded). The node's
/// <c>drainingSince</c> comes from its configuration (<see cref="Representations.Node"/>).
/// </summary>
internal static class DrainFields
{
    /// <summary>Adds the fields to <paramref name="body"/>; nothing without a runtime.</summary>
    /// <param name="body">The node's representation.</param>
    /// <param name="node">The node.</param>
    /// <param name="runtime">The live runtime of its load balancer, or null.</param>
    /// <param name="sessions">The runtime's <see cref="LoadBalancerRuntime.CountSessionsByNode"/>, or null.</param>
    public static void Add(JsonObject body, NodeConfig node, LoadBalancerRuntime? runtime, Dictionary<int, int>? sessions)
    {
        if (runtime is null || sessions is null)
        {
            return;
        }

        body["persistedSessions"] = sessions.GetValueOrDefault(node.Id);
        body["activeConnections"] = runtime.Snapshot.FindNode(node.Id)?.Counters.Active ?? 0;
        if (node.Condition == NodeCondition.Draining)
        {
            body["drained"] = runtime.Drain.IsDrained(node.Id);
        }
    }
}

using Tether.Core.Model;

namespace Tether.Management;

/// <summary>
/// Drain progress (issue 13): keeps <see cref="NodeConfig.DrainingSince"/> true to every change of a load balancer.
/// A node that is DRAINING after the change and was not before (or is new) is stamped with the time of the change; a
/// node that stays DRAINING keeps its time; any other node has none.
/// </summary>
internal static class DrainingStamp
{
    /// <summary><paramref name="next"/> with each node's <c>DrainingSince</c> set as described; the same instance when
    /// nothing changes.</summary>
    /// <param name="previous">The configuration before the change, or <c>null</c> at creation.</param>
    /// <param name="next">The configuration after the change.</param>
    /// <param name="now">The time of the change (UTC, whole seconds as the API shows times).</param>
    public static LoadBalancerConfig Apply(LoadBalancerConfig? previous, LoadBalancerConfig next, DateTimeOffset now)
    {
        var nodes = next.Nodes;
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            DateTimeOffset? since = null;
            if (node.Condition == NodeCondition.Draining)
            {
                var before = previous?.Nodes.FirstOrDefault(n => n.Id == node.Id);
                since = before is { Condition: NodeCondition.Draining } ? before.DrainingSince ?? node.DrainingSince ?? now : now;
            }

            if (since != node.DrainingSince)
            {
                nodes = nodes.SetItem(i, node with { DrainingSince = since });
            }
        }

        return nodes == next.Nodes ? next : next with { Nodes = nodes };
    }
}

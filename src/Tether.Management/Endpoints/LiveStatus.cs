using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tether.Core;
using Tether.Core.Model;
using Tether.Core.Runtime;

namespace Tether.Management.Endpoints;

/// <summary>
/// Node status is set by health monitoring in the data plane, not stored per request: the API shows the status the
/// live runtime holds (through <see cref="IRuntimeRegistry"/> when the host has one), and the stored one otherwise.
/// </summary>
internal static class LiveStatus
{
    /// <summary>The live runtime of load balancer <paramref name="id"/>, or null (no registry, or not live).</summary>
    public static LoadBalancerRuntime? Runtime(HttpContext http, int id) =>
        http.RequestServices.GetService<IRuntimeRegistry>()?.FindRuntime(id);

    /// <summary><paramref name="config"/> with each node's status as the live runtime sees it.</summary>
    public static LoadBalancerConfig Apply(LoadBalancerConfig config, HttpContext http) =>
        Apply(config, Runtime(http, config.Id));

    /// <summary><paramref name="config"/> with each node's status as <paramref name="runtime"/> sees it (nodes the
    /// runtime does not hold yet keep their stored status).</summary>
    public static LoadBalancerConfig Apply(LoadBalancerConfig config, LoadBalancerRuntime? runtime)
    {
        if (runtime is null)
        {
            return config;
        }

        var snapshot = runtime.Snapshot;
        var nodes = config.Nodes;
        for (var i = 0; i < nodes.Length; i++)
        {
            if (snapshot.FindNode(nodes[i].Id) is { } live)
            {
                var status = live.IsOnline ? NodeStatus.Online : NodeStatus.Offline;
                if (status != nodes[i].Status)
                {
                    nodes = nodes.SetItem(i, nodes[i] with { Status = status });
                }
            }
        }

        return nodes == config.Nodes ? config : config with { Nodes = nodes };
    }
}

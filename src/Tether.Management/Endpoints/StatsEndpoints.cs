using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Tether.Core;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Management.Api;

namespace Tether.Management.Endpoints;

/// <summary>
/// <c>GET /loadbalancers/{id}/stats</c> (200): Rackspace's connection statistics of a load balancer (docs/api.md), plus
/// the persistence outcomes (hit, hashed, miss, repinned, rejected, noNodeAvailable) and each node's requests, active
/// connections, failures, share of requests and share of weight. 404 when the account has no such load balancer.
/// </summary>
internal static class StatsEndpoints
{
    public static void Map(RouteGroupBuilder group, LoadBalancerService service, IRuntimeRegistry runtimes)
    {
        group.MapGet("/loadbalancers/{id:int}/stats", (int account, int id) =>
        {
            if (service.Find(account, id) is not { } config)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            return JsonNodeResult.Ok(Stats(config, runtimes.FindRuntime(id)));
        });
    }

    private static JsonObject Stats(LoadBalancerConfig config, LoadBalancerRuntime? runtime)
    {
        long current = 0, failures = 0, total = 0, connectErrors = 0, connectTimeouts = 0, dataTimeouts = 0, noConnection = 0;
        long currentSsl = 0, failuresSsl = 0, connectErrorsSsl = 0, connectTimeoutsSsl = 0, dataTimeoutsSsl = 0;
        var maxConn = 0;
        var maxConnSsl = 0;
        var nodes = new JsonArray();
        if (runtime is not null)
        {
            var snapshot = runtime.Snapshot;
            foreach (var node in snapshot.Nodes)
            {
                total += node.Counters.Requests;
            }

            var weightTotal = 0;
            foreach (var node in snapshot.Nodes)
            {
                if (node.Condition == NodeCondition.Enabled)
                {
                    weightTotal += node.Weight;
                }
            }

            foreach (var node in snapshot.Nodes)
            {
                // Plain traffic and SSL termination traffic apart, as Rackspace's two sets of fields.
                var activeSsl = node.Counters.ActiveSsl;
                current += node.Counters.Active - activeSsl;
                currentSsl += activeSsl;
                var nodeFailuresSsl = node.Counters.FailuresSsl;
                failures += node.Counters.Failures - nodeFailuresSsl;
                failuresSsl += nodeFailuresSsl;
                connectErrors += node.Counters.ConnectErrors;
                connectErrorsSsl += node.Counters.ConnectErrorsSsl;
                connectTimeouts += node.Counters.ConnectTimeouts;
                connectTimeoutsSsl += node.Counters.ConnectTimeoutsSsl;
                dataTimeouts += node.Counters.DataTimeouts;
                dataTimeoutsSsl += node.Counters.DataTimeoutsSsl;
                noConnection += node.Counters.NoConnection;
                maxConn = Math.Max(maxConn, node.Counters.MaxActive);
                maxConnSsl = Math.Max(maxConnSsl, node.Counters.MaxActiveSsl);
                nodes.Add(new JsonObject
                {
                    ["id"] = node.Id,
                    ["requests"] = node.Counters.Requests,
                    ["activeConnections"] = node.Counters.Active,
                    ["failures"] = node.Counters.Failures,
                    ["share"] = total == 0 ? 0.0 : Math.Round((double)node.Counters.Requests / total, 4),
                    ["weightShare"] = weightTotal == 0 || node.Condition != NodeCondition.Enabled ? 0.0 : Math.Round((double)node.Weight / weightTotal, 4),
                });
            }
        }

        var statistics = runtime?.Statistics;
        return new JsonObject
        {
            // Rackspace's fields. keepAliveTimedOut: client connections closed idle between requests (HTTP/1.1 fast path).
            ["connectTimeOut"] = connectTimeouts,
            ["connectError"] = connectErrors,
            ["connectFailure"] = failures,
            ["dataTimedOut"] = dataTimeouts,
            ["keepAliveTimedOut"] = runtime?.KeepAliveTimeouts ?? 0,
            ["maxConn"] = maxConn,
            ["currentConn"] = current,
            // The same for the traffic of the SSL termination (TLS) listener; the fields above count plain traffic only.
            ["connectTimeOutSsl"] = connectTimeoutsSsl,
            ["connectErrorSsl"] = connectErrorsSsl,
            ["connectFailureSsl"] = failuresSsl,
            ["dataTimedOutSsl"] = dataTimeoutsSsl,
            ["keepAliveTimedOutSsl"] = runtime?.KeepAliveTimeoutsSsl ?? 0,
            ["maxConnSsl"] = maxConnSsl,
            ["currentConnSsl"] = currentSsl,
            // Additive: requests answered 503 because Tether could open no connection to a node (its per-node
            // connection limit and queue, or no file descriptor left).
            ["noConnection"] = noConnection,
            ["persistence"] = new JsonObject
            {
                ["hit"] = statistics?.Get(SelectionOutcome.Persisted) ?? 0,
                ["hashed"] = statistics?.Get(SelectionOutcome.Hashed) ?? 0,
                ["miss"] = statistics?.Get(SelectionOutcome.Balanced) ?? 0,
                ["repinned"] = statistics?.Get(SelectionOutcome.Repinned) ?? 0,
                ["rejected"] = statistics?.Get(SelectionOutcome.RejectedNoFallback) ?? 0,
                ["noNodeAvailable"] = statistics?.Get(SelectionOutcome.NoNodeAvailable) ?? 0,
            },
            ["nodes"] = nodes,
        };
    }
}

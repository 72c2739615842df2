using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tether.Core;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using Tether.Management.Api;

namespace Tether.Management.Endpoints;

/// <summary>
/// See and steer session persistence (issue 3, beyond the Rackspace anchors), under <c>/loadbalancers/{id}/</c>:
/// <list type="bullet">
/// <item><c>GET sessionpersistence/sessions?nodeId=&amp;limit=&amp;marker=</c> (200): the persisted entries Tether
/// knows, paged (limit 1..1000, default 100; <c>marker</c> = the last <c>id</c> of the previous page);</item>
/// <item><c>GET sessionpersistence/lookup?address=</c> or <c>?cookie=</c> (200): which node a client would reach and
/// why (persisted, hashed, balanced, rejected);</item>
/// <item><c>DELETE sessionpersistence/sessions?nodeId=N</c> (202): unpin every client of node N;</item>
/// <item><c>GET stats</c> (200): Rackspace's connection statistics plus persistence quality and each node's share.</item>
/// </list>
/// </summary>
internal static class PersistenceInsightEndpoints
{
    public static void Map(RouteGroupBuilder group, LoadBalancerService service, IRuntimeRegistry runtimes, ManagementOptions options)
    {
        group.MapGet("/loadbalancers/{id:int}/sessionpersistence/sessions", (int account, int id, HttpRequest request) =>
        {
            if (service.Find(account, id) is not { } config)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            var errors = new List<string>();
            var nodeId = ReadInt(request, "nodeId", 1, int.MaxValue, null, errors);
            var limit = ReadInt(request, "limit", 1, 1000, 100, errors) ?? 100;
            var marker = request.Query["marker"].ToString();
            if (nodeId is { } n && !config.Nodes.Any(x => x.Id == n))
            {
                return JsonNodeResult.Error(ApiError.NodeNotFound);
            }

            if (errors.Count > 0)
            {
                return JsonNodeResult.Error(ApiError.Validation(errors));
            }

            var runtime = runtimes.FindRuntime(id);
            var sessions = new JsonArray();
            if (runtime is not null && config.SessionPersistence is { } persistence)
            {
                var snapshot = runtime.Snapshot;
                var now = runtime.Time.GetTimestamp();
                var rows = runtime.StickTable.Snapshot(now)
                    .Where(e => nodeId is null || e.NodeId == nodeId)
                    .Select(e => (Id: EntryId(e.Key), Entry: e))
                    .Where(r => marker.Length == 0 || string.CompareOrdinal(r.Id, marker) > 0)
                    .OrderBy(r => r.Id, StringComparer.Ordinal)
                    .Take(limit);
                foreach (var (entryId, entry) in rows)
                {
                    var lastSeen = runtime.ToUtc(entry.LastUse);
                    sessions.Add(new JsonObject
                    {
                        ["id"] = entryId,
                        ["persistenceType"] = PersistenceTypeNames.ToName(persistence.Type),
                        ["key"] = PersistencePolicies.For(persistence.Type).DescribeKey(entry.Key, options.MaskClientAddresses),
                        ["nodeId"] = entry.NodeId,
                        ["lastSeen"] = Representations.Time(lastSeen),
                        ["expires"] = Representations.Time(lastSeen.AddSeconds(snapshot.TimeoutSeconds)),
                    });
                }
            }

            return JsonNodeResult.Ok(new JsonObject { ["sessions"] = sessions });
        });

        group.MapDelete("/loadbalancers/{id:int}/sessionpersistence/sessions", (int account, int id, HttpRequest request) =>
        {
            if (service.Find(account, id) is not { } config)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            var errors = new List<string>();
            var nodeId = ReadInt(request, "nodeId", 1, int.MaxValue, null, errors);
            if (nodeId is null && errors.Count == 0)
            {
                errors.Add("nodeId: required: the node whose clients are unpinned (?nodeId=N)");
            }

            if (errors.Count > 0)
            {
                return JsonNodeResult.Error(ApiError.Validation(errors));
            }

            if (!config.Nodes.Any(n => n.Id == nodeId))
            {
                return JsonNodeResult.Error(ApiError.NodeNotFound);
            }

            runtimes.FindRuntime(id)?.UnpinNode(nodeId!.Value);
            return JsonNodeResult.Accepted();
        });

        group.MapGet("/loadbalancers/{id:int}/sessionpersistence/lookup", (int account, int id, HttpRequest request) =>
        {
            if (service.Find(account, id) is not { } config)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            var address = request.Query["address"].ToString();
            var cookie = request.Query["cookie"].ToString();
            var header = request.Query["header"].ToString();
            var type = config.SessionPersistence?.Type;
            var policy = PersistencePolicies.For(type);
            var inputs = policy.Inputs;
            var errors = new List<string>();
            IPAddress? ip = null;
            if (address.Length == 0 && cookie.Length == 0 && header.Length == 0)
            {
                errors.Add("address or cookie: give the client's address (?address=) or its persistence cookie value (?cookie=)"
                    + ((inputs & PersistenceInputs.Header) != 0 ? " or its persistence header value (?header=)" : ""));
            }
            else if (address.Length > 0 && !IPAddress.TryParse(address, out ip))
            {
                errors.Add($"address: '{address}' is not an IPv4 or IPv6 address");
            }
            else if ((inputs & PersistenceInputs.ClientAddress) != 0 && address.Length == 0)
            {
                errors.Add($"address: required for {policy.Name} persistence");
            }
            else if ((inputs & (PersistenceInputs.PersistenceCookie | PersistenceInputs.AppCookie)) != 0 && cookie.Length == 0)
            {
                errors.Add($"cookie: required for {policy.Name} persistence (the cookie's value)");
            }
            else if ((inputs & PersistenceInputs.Header) != 0 && header.Length == 0)
            {
                errors.Add($"header: required for {policy.Name} persistence (the value of the request's {config.SessionPersistence?.HeaderName} header)");
            }

            if (errors.Count > 0)
            {
                return JsonNodeResult.Error(ApiError.Validation(errors));
            }

            var body = new JsonObject();
            if (type is { } t)
            {
                body["persistenceType"] = PersistenceTypeNames.ToName(t);
            }

            var runtime = runtimes.FindRuntime(id);
            if (runtime is null || type is null)
            {
                body["reason"] = "balanced";
                return JsonNodeResult.Ok(new JsonObject { ["lookup"] = body });
            }

            var appCookieKey = UInt128.Zero;
            if ((inputs & PersistenceInputs.AppCookie) != 0)
            {
                // A named application cookie: ?cookie=VALUE. cookieName "*": ?cookie=NAME=VALUE.
                var name = runtime.Snapshot.CookieName ?? "*";
                var value = cookie;
                if (name == "*")
                {
                    var eq = cookie.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0)
                    {
                        return JsonNodeResult.Error(ApiError.Validation("cookie: with cookieName \"*\" give NAME=VALUE"));
                    }

                    name = cookie[..eq];
                    value = cookie[(eq + 1)..];
                }

                appCookieKey = StableHash.OfCookie(name, value);
            }

            // The same view a request gives: the lookup runs the request's own decision, read-only.
            var view = new PersistenceRequest(
                ip is null ? UInt128.Zero : ClientAddress.ToKey(ip),
                (inputs & PersistenceInputs.PersistenceCookie) != 0 ? cookie : default,
                appCookieKey,
                header);
            var explanation = runtime.Explain(view);
            if (explanation.Node is { } node)
            {
                body["nodeId"] = node.Id;
            }

            body["reason"] = explanation.Reason;
            return JsonNodeResult.Ok(new JsonObject { ["lookup"] = body });
        });

        group.MapGet("/loadbalancers/{id:int}/stats", (int account, int id) =>
        {
            if (service.Find(account, id) is not { } config)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            return JsonNodeResult.Ok(Stats(config, runtimes.FindRuntime(id)));
        });
    }

    /// <summary>Node fields added to the nodes listing: <c>persistedSessions</c> (clients pinned to the node now) and,
    /// while DRAINING, <c>lastPinnedRequest</c> (when persistence last sent it a request).</summary>
    public static void AddRuntimeFields(JsonObject node, NodeConfig config, LoadBalancerRuntime? runtime, Dictionary<int, int>? counts)
    {
        if (runtime is null || counts is null)
        {
            return;
        }

        node["persistedSessions"] = counts.GetValueOrDefault(config.Id);
        if (config.Condition == NodeCondition.Draining && runtime.Snapshot.FindNode(config.Id) is { } state && state.Counters.LastPersisted != 0)
        {
            node["lastPinnedRequest"] = Representations.Time(runtime.ToUtc(state.Counters.LastPersisted));
        }
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

    private static int? ReadInt(HttpRequest request, string name, int min, int max, int? fallback, List<string> errors)
    {
        var text = request.Query[name].ToString();
        if (text.Length == 0)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            errors.Add($"{name}: '{text}' must be an integer from {min} to {max}");
            return fallback;
        }

        return value;
    }

    /// <summary>A stable, opaque id of an entry for paging: it reveals neither the address nor the cookie.</summary>
    private static string EntryId(UInt128 key) => StickEntryIds.Of(key);
}

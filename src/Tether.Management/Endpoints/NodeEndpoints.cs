using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Management.Api;
using Tether.Management.Requests;

namespace Tether.Management.Endpoints;

/// <summary>
/// <c>/loadbalancers/{id}/nodes</c> (GET list, paginated with <c>limit</c>/<c>marker</c>/<c>offset</c> and
/// <c>links</c> as <see cref="ListQuery"/>; POST add, DELETE <c>?id=</c> bulk) and
/// <c>/loadbalancers/{id}/nodes/{nodeId}</c> (GET, PUT, DELETE). Rackspace v1.0 shapes and codes: 200 for GET; 202
/// for POST (<c>{"nodes":[...created...]}</c>), PUT and DELETE (empty body).
/// </summary>
internal static class NodeEndpoints
{
    public static void Map(RouteGroupBuilder group, LoadBalancerService service)
    {
        group.MapGet("/loadbalancers/{id:int}/nodes", (int account, int id, HttpContext http) =>
        {
            if (service.Find(account, id) is not { } config)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            var runtime = http.RequestServices.GetService(typeof(Tether.Core.IRuntimeRegistry)) is Tether.Core.IRuntimeRegistry registry
                ? registry.FindRuntime(id)
                : null;
            // Pages (limit, marker, offset) as Rackspace's List Nodes: ListQuery.
            var errors = new List<string>();
            var page = ListQuery.ReadPage(http.Request, errors);
            if (errors.Count > 0)
            {
                return JsonNodeResult.Error(ApiError.Validation(errors));
            }

            var counts = runtime?.CountSessionsByNode();
            var paged = ListQuery.Apply([.. LiveStatus.Apply(config, runtime).Nodes.OrderBy(n => n.Id)], n => n.Id, page);
            var nodes = new JsonArray();
            foreach (var node in paged.Items)
            {
                var body = Representations.Node(node);
                PersistenceInsightEndpoints.AddRuntimeFields(body, node, runtime, counts);
                DrainFields.Add(body, node, runtime, counts);
                nodes.Add(body);
            }

            var list = new JsonObject { ["nodes"] = nodes };
            ListQuery.AddLinks(list, paged, page, http.Request);
            return JsonNodeResult.Ok(list);
        });

        group.MapPost("/loadbalancers/{id:int}/nodes", async (int account, int id, HttpContext http) =>
        {
            if (service.Find(account, id) is null)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            var body = await RequestJson.ReadAsync(http.Request, http.RequestAborted);
            if (body.Error is { } bad)
            {
                return JsonNodeResult.Error(bad);
            }

            var issues = new ReadIssues();
            var nodes = ReadNodes(body.Value, issues, out var shapeError);
            if (nodes is null)
            {
                return JsonNodeResult.Error(shapeError!);
            }

            var outcome = await service.AddNodesAsync(account, id, nodes, issues, http.RequestAborted);
            // Live status: a node added by a host name that did not resolve is OFFLINE at once.
            return EndpointHelpers.Respond(outcome, created =>
                JsonNodeResult.Accepted(new JsonObject { ["nodes"] = Representations.Nodes(LiveNodes(created, LiveStatus.Runtime(http, id))) }));
        });

        group.MapDelete("/loadbalancers/{id:int}/nodes", async (int account, int id, HttpContext http) =>
        {
            if (service.Find(account, id) is null)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            var ids = EndpointHelpers.ParseBulkIds(http.Request, "nodes");
            if (ids.Error is { } bad)
            {
                return JsonNodeResult.Error(bad);
            }

            var outcome = await service.DeleteNodesAsync(account, id, ids.Value!, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });

        group.MapGet("/loadbalancers/{id:int}/nodes/{nodeId:int}", (int account, int id, int nodeId, HttpContext http) =>
        {
            if (service.Find(account, id) is not { } config)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            var runtime = LiveStatus.Runtime(http, id);
            if (LiveStatus.Apply(config, runtime).Nodes.FirstOrDefault(n => n.Id == nodeId) is not { } node)
            {
                return JsonNodeResult.Error(ApiError.NodeNotFound);
            }

            var body = Representations.Node(node);
            DrainFields.Add(body, node, runtime, runtime?.CountSessionsByNode());
            return JsonNodeResult.Ok(new JsonObject { ["node"] = body });
        });

        group.MapPut("/loadbalancers/{id:int}/nodes/{nodeId:int}", async (int account, int id, int nodeId, HttpContext http) =>
        {
            if (service.Find(account, id) is not { } config)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            if (!config.Nodes.Any(n => n.Id == nodeId))
            {
                return JsonNodeResult.Error(ApiError.NodeNotFound);
            }

            var reader = await EndpointHelpers.ReadRootObjectAsync(http, "node");
            if (reader.Error is { } bad)
            {
                return JsonNodeResult.Error(bad);
            }

            var request = NodeRequest.Read(reader.Value!, FieldSet.NodeUpdate);
            var outcome = await service.UpdateNodeAsync(account, id, nodeId, request, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });

        group.MapDelete("/loadbalancers/{id:int}/nodes/{nodeId:int}", async (int account, int id, int nodeId, HttpContext http) =>
        {
            var outcome = await service.DeleteNodesAsync(account, id, [nodeId], http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });
    }

    private static readonly FieldSet SingleNodeBody = new() { Known = ["node"], SuggestOnly = ["nodes"] };

    /// <summary>
    /// The nodes of a POST body, accepted as <c>{"nodes":[...]}</c> (Rackspace), a bare array <c>[...]</c>,
    /// <c>{"node":{...}}</c> or a bare node object. Null (with the error) for any other shape.
    /// </summary>
    private static List<NodeRequest>? ReadNodes(JsonElement body, ReadIssues issues, out ApiError? error)
    {
        error = null;
        if (body.ValueKind == JsonValueKind.Array)
        {
            var list = new List<NodeRequest>();
            var index = 0;
            foreach (var item in body.EnumerateArray())
            {
                var path = $"nodes[{index++}]";
                if (item.ValueKind == JsonValueKind.Object)
                {
                    list.Add(NodeRequest.Read(new FieldReader(item, path, issues), FieldSet.NodeAdded));
                }
                else
                {
                    issues.Add(path, "must be an object");
                }
            }

            return list;
        }

        if (body.ValueKind != JsonValueKind.Object)
        {
            error = ApiError.BadRequest("The request body must be {\"nodes\": [{...}]}.");
            return null;
        }

        var reader = new FieldReader(body, "", issues);
        if (body.TryGetProperty("nodes", out _))
        {
            reader.CheckFields(FieldSet.NodesBody);
            var items = reader.ObjectArray("nodes");
            if (items is null)
            {
                error = ApiError.Validation([.. issues.Messages]);
                return null;
            }

            return [.. items.Select(item => NodeRequest.Read(item, FieldSet.NodeAdded))];
        }

        if (body.TryGetProperty("node", out var single) && single.ValueKind == JsonValueKind.Object)
        {
            reader.CheckFields(SingleNodeBody);
            return [NodeRequest.Read(new FieldReader(single, "nodes[0]", issues), FieldSet.NodeAdded)];
        }

        return [NodeRequest.Read(new FieldReader(body, "nodes[0]", issues), FieldSet.NodeAdded)];
    }

    /// <summary><paramref name="nodes"/> with the status <paramref name="runtime"/> sees now (as stored when none).</summary>
    private static IReadOnlyList<NodeConfig> LiveNodes(IReadOnlyList<NodeConfig> nodes, LoadBalancerRuntime? runtime)
    {
        if (runtime?.Snapshot is not { } snapshot)
        {
            return nodes;
        }

        var live = new List<NodeConfig>(nodes.Count);
        foreach (var node in nodes)
        {
            live.Add(snapshot.FindNode(node.Id) is { IsOnline: false } state && node.Status == NodeStatus.Online && !state.IsResolved
                ? node with { Status = NodeStatus.Offline }
                : node);
        }

        return live;
    }
}

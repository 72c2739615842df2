using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tether.Management.Api;
using Tether.Management.Requests;

namespace Tether.Management.Endpoints;

/// <summary>
/// Metadata of load balancers (<c>/loadbalancers/{id}/metadata</c>) and nodes
/// (<c>/loadbalancers/{id}/nodes/{nodeId}/metadata</c>), Rackspace Cloud Load Balancers v1.0 reference "Metadata"
/// (clb-devguide 4.18 List, Add, Modify and Remove Metadata; docs/api.md "Metadata"). Every answer is 200:
/// <list type="bullet">
/// <item><c>GET /metadata</c>: <c>{"metadata":[{"id":1,"key":"color","value":"red"}]}</c>.</item>
/// <item><c>POST /metadata</c> <c>{"metadata":[{"key","value"}]}</c>: adds the items, answers
/// <c>{"metadata":[...added, with ids...]}</c>; 400 for a missing or over-long (256 characters) key or value or a key
/// already used, 413 past LOADBALANCER_META_LIMIT / NODE_META_LIMIT (25 each).</item>
/// <item><c>GET /metadata/{metaId}</c>: <c>{"meta":{"id","key","value"}}</c>.</item>
/// <item><c>PUT /metadata/{metaId}</c> <c>{"meta":{"value":"blue"}}</c>: changes the value (empty answer); key and id
/// are immutable (400).</item>
/// <item><c>DELETE /metadata/{metaId}</c> and <c>DELETE /metadata?id=1&amp;id=2</c> (at most 10 ids,
/// BATCH_DELETE_LIMIT): all or nothing, 404 <c>"Metadata item not found"</c> when one is not there (empty
/// answer).</item>
/// </list>
/// 404 for another account's or an unknown load balancer, node or item; 422 for a change while the load balancer is
/// not mutable.
/// </summary>
internal static class MetadataEndpoints
{
    public static void Map(RouteGroupBuilder group, LoadBalancerService service)
    {
        group.MapGet("/loadbalancers/{id:int}/metadata", (int account, int id) => List(service, account, id, null));
        group.MapGet("/loadbalancers/{id:int}/nodes/{nodeId:int}/metadata", (int account, int id, int nodeId) =>
            List(service, account, id, nodeId));

        group.MapPost("/loadbalancers/{id:int}/metadata", (int account, int id, HttpContext http) =>
            AddAsync(service, account, id, null, http));
        group.MapPost("/loadbalancers/{id:int}/nodes/{nodeId:int}/metadata", (int account, int id, int nodeId, HttpContext http) =>
            AddAsync(service, account, id, nodeId, http));

        group.MapDelete("/loadbalancers/{id:int}/metadata", (int account, int id, HttpContext http) =>
            DeleteBulkAsync(service, account, id, null, http));
        group.MapDelete("/loadbalancers/{id:int}/nodes/{nodeId:int}/metadata", (int account, int id, int nodeId, HttpContext http) =>
            DeleteBulkAsync(service, account, id, nodeId, http));

        group.MapGet("/loadbalancers/{id:int}/metadata/{metaId:int}", (int account, int id, int metaId) =>
            Show(service, account, id, null, metaId));
        group.MapGet("/loadbalancers/{id:int}/nodes/{nodeId:int}/metadata/{metaId:int}", (int account, int id, int nodeId, int metaId) =>
            Show(service, account, id, nodeId, metaId));

        group.MapPut("/loadbalancers/{id:int}/metadata/{metaId:int}", (int account, int id, int metaId, HttpContext http) =>
            UpdateAsync(service, account, id, null, metaId, http));
        group.MapPut("/loadbalancers/{id:int}/nodes/{nodeId:int}/metadata/{metaId:int}", (int account, int id, int nodeId, int metaId, HttpContext http) =>
            UpdateAsync(service, account, id, nodeId, metaId, http));

        group.MapDelete("/loadbalancers/{id:int}/metadata/{metaId:int}", async (int account, int id, int metaId, HttpContext http) =>
            Done(await service.DeleteMetadataAsync(account, id, null, [metaId], http.RequestAborted)));
        group.MapDelete("/loadbalancers/{id:int}/nodes/{nodeId:int}/metadata/{metaId:int}", async (int account, int id, int nodeId, int metaId, HttpContext http) =>
            Done(await service.DeleteMetadataAsync(account, id, nodeId, [metaId], http.RequestAborted)));
    }

    private static JsonNodeResult List(LoadBalancerService service, int account, int id, int? nodeId)
    {
        if (service.Find(account, id) is not { } config)
        {
            return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
        }

        var owner = LoadBalancerService.MetadataOf(config, nodeId);
        return owner.Error is { } notFound
            ? JsonNodeResult.Error(notFound)
            : JsonNodeResult.Ok(new JsonObject { ["metadata"] = Representations.Metadata(owner.Value!.Items) });
    }

    private static JsonNodeResult Show(LoadBalancerService service, int account, int id, int? nodeId, int metaId)
    {
        if (service.Find(account, id) is not { } config)
        {
            return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
        }

        var owner = LoadBalancerService.MetadataOf(config, nodeId);
        if (owner.Error is { } notFound)
        {
            return JsonNodeResult.Error(notFound);
        }

        foreach (var item in owner.Value!.Items)
        {
            if (item.Id == metaId)
            {
                return JsonNodeResult.Ok(new JsonObject { ["meta"] = Representations.Meta(item) });
            }
        }

        return JsonNodeResult.Error(ApiError.MetadataNotFound);
    }

    private static async Task<IResult> AddAsync(LoadBalancerService service, int account, int id, int? nodeId, HttpContext http)
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
        var items = ReadItems(body.Value, issues);
        if (items is null)
        {
            return JsonNodeResult.Error(ApiError.Validation(issues.Messages.Count > 0
                ? [.. issues.Messages]
                : ["metadata: give the items as {\"metadata\":[{\"key\":\"color\",\"value\":\"red\"}]}"]));
        }

        var outcome = await service.AddMetadataAsync(account, id, nodeId, items, issues, http.RequestAborted);
        return EndpointHelpers.Respond(outcome, created =>
            JsonNodeResult.Ok(new JsonObject { ["metadata"] = Representations.Metadata(created) }));
    }

    private static async Task<IResult> UpdateAsync(LoadBalancerService service, int account, int id, int? nodeId, int metaId,
        HttpContext http)
    {
        var reader = await EndpointHelpers.FindThenReadAsync(service, account, id, http, "meta");
        if (reader.Error is { } bad)
        {
            return JsonNodeResult.Error(bad);
        }

        return Done(await service.UpdateMetadataAsync(account, id, nodeId, metaId, reader.Value!, http.RequestAborted));
    }

    private static async Task<IResult> DeleteBulkAsync(LoadBalancerService service, int account, int id, int? nodeId, HttpContext http)
    {
        if (service.Find(account, id) is null)
        {
            return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
        }

        var ids = EndpointHelpers.ParseBulkIds(http.Request, "metadata items");
        if (ids.Error is { } bad)
        {
            return JsonNodeResult.Error(bad);
        }

        return Done(await service.DeleteMetadataAsync(account, id, nodeId, ids.Value!, http.RequestAborted));
    }

    /// <summary>200 with an empty body (Rackspace Modify and Remove Metadata), or the error.</summary>
    private static IResult Done<T>(Outcome<T> outcome) =>
        EndpointHelpers.Respond(outcome, _ => new JsonNodeResult(null, StatusCodes.Status200OK));

    /// <summary>
    /// The items of a POST body: <c>{"metadata":[{"key","value"}]}</c> (Rackspace; pyrax and fog send it) or a bare
    /// array. Null (with the reason in <paramref name="issues"/>, or none for the wrong shape) when the items cannot be
    /// read.
    /// </summary>
    private static List<MetadataRequest>? ReadItems(JsonElement body, ReadIssues issues)
    {
        if (body.ValueKind == JsonValueKind.Array)
        {
            var list = new List<MetadataRequest>();
            var index = 0;
            foreach (var element in body.EnumerateArray())
            {
                var path = $"metadata[{index++}]";
                if (element.ValueKind == JsonValueKind.Object)
                {
                    var reader = new FieldReader(element, path, issues);
                    reader.CheckFields(FieldSet.Metadata);
                    list.Add(MetadataRequest.Read(reader));
                }
                else
                {
                    issues.Add(path, "must be an object");
                }
            }

            return list;
        }

        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("metadata", out var inner)
            || inner.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var root = new FieldReader(body, "", issues);
        root.CheckFields(FieldSet.MetadataBody);
        return MetadataRequest.ReadArray(root);
    }
}

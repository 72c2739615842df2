using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tether.Management.Api;
using Tether.Management.Requests;

namespace Tether.Management.Endpoints;

/// <summary>
/// <c>/loadbalancers</c> (GET list, POST create, DELETE <c>?id=</c> bulk) and <c>/loadbalancers/{id}</c> (GET, PUT,
/// DELETE). Rackspace v1.0 shapes and codes: 200 for GET, 202 for POST (with the created load balancer), PUT and
/// DELETE (empty body).
/// </summary>
internal static class LoadBalancerEndpoints
{
    public static void Map(RouteGroupBuilder group, LoadBalancerService service)
    {
        // Filters (status, changes-since, nodeaddress) and pages (limit, marker, offset): ListQuery.
        group.MapGet("/loadbalancers", (int account, HttpContext http) =>
            ListResponses.LoadBalancers(service, account, http.Request));

        group.MapPost("/loadbalancers", async (int account, HttpContext http) =>
        {
            var reader = await EndpointHelpers.ReadRootObjectAsync(http, "loadBalancer");
            if (reader.Error is { } bad)
            {
                return JsonNodeResult.Error(bad);
            }

            var request = LoadBalancerRequest.Read(reader.Value!, create: true);
            var outcome = await service.CreateAsync(account, request, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, created =>
                JsonNodeResult.Accepted(new JsonObject { ["loadBalancer"] = Representations.LoadBalancer(created) }));
        });

        group.MapDelete("/loadbalancers", async (int account, HttpContext http) =>
        {
            var ids = EndpointHelpers.ParseBulkIds(http.Request, "load balancers");
            if (ids.Error is { } bad)
            {
                return JsonNodeResult.Error(bad);
            }

            var error = await service.DeleteAsync(account, ids.Value!, http.RequestAborted);
            return error is null ? JsonNodeResult.Accepted() : JsonNodeResult.Error(error);
        });

        group.MapGet("/loadbalancers/{id:int}", (int account, int id, HttpContext http) =>
            service.Find(account, id) is { } config
                ? JsonNodeResult.Ok(new JsonObject { ["loadBalancer"] = Representations.LoadBalancer(LiveStatus.Apply(config, http)) })
                : JsonNodeResult.Error(ApiError.LoadBalancerNotFound));

        // Rackspace v1.0 "List Virtual IPs": {"virtualIps":[{"id","address","type","ipVersion"}]} (pkgcloud's getVirtualIps).
        group.MapGet("/loadbalancers/{id:int}/virtualips", (int account, int id) =>
            service.Find(account, id) is { } config
                ? JsonNodeResult.Ok(new JsonObject { ["virtualIps"] = Representations.VirtualIps(config) })
                : JsonNodeResult.Error(ApiError.LoadBalancerNotFound));

        group.MapPut("/loadbalancers/{id:int}", async (int account, int id, HttpContext http) =>
        {
            if (service.Find(account, id) is null)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            var reader = await EndpointHelpers.ReadRootObjectAsync(http, "loadBalancer");
            if (reader.Error is { } bad)
            {
                return JsonNodeResult.Error(bad);
            }

            var request = LoadBalancerRequest.Read(reader.Value!, create: false);
            var outcome = await service.UpdateAsync(account, id, request, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });

        group.MapDelete("/loadbalancers/{id:int}", async (int account, int id, HttpContext http) =>
        {
            var error = await service.DeleteAsync(account, [id], http.RequestAborted);
            return error is null ? JsonNodeResult.Accepted() : JsonNodeResult.Error(error);
        });
    }
}

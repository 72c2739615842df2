using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tether.Management.Api;
using Tether.Management.Requests;

namespace Tether.Management.Endpoints;

/// <summary>
/// <c>/loadbalancers</c> (GET list, POST create, DELETE <c>?id=</c> bulk) and <c>/loadbalancers/{id}</c> (GET, PUT,
/// DELETE), and <c>/loadbalancers/{id}/virtualips</c> (GET, POST an IPV6 one, DELETE one or <c>?id=</c> bulk). Rackspace v1.0 shapes and codes: 200 for GET, 202 for POST (with the created load balancer), PUT and
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
                JsonNodeResult.Accepted(new JsonObject { ["loadBalancer"] = Representations.LoadBalancer(created, Representations.SourceAddresses(service.Options)) }));
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
                ? JsonNodeResult.Ok(new JsonObject { ["loadBalancer"] = Representations.LoadBalancer(LiveStatus.Apply(config, http), Representations.SourceAddresses(service.Options)) })
                : JsonNodeResult.Error(ApiError.LoadBalancerNotFound));

        // Rackspace v1.0 "List Virtual IPs": {"virtualIps":[{"id","address","type","ipVersion"}],"links"?:[...]}
        // (pkgcloud's getVirtualIps), by id and paginated (limit, marker, offset) as the other lists: ListQuery.
        group.MapGet("/loadbalancers/{id:int}/virtualips", (int account, int id, HttpContext http) =>
        {
            if (service.Find(account, id) is not { } config)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            var errors = new List<string>();
            var page = ListQuery.ReadPage(http.Request, errors);
            if (errors.Count > 0)
            {
                return JsonNodeResult.Error(ApiError.Validation(errors));
            }

            var paged = ListQuery.Apply([.. config.VirtualIps.OrderBy(v => v.Id)], v => v.Id, page);
            var list = new JsonArray();
            foreach (var vip in paged.Items)
            {
                list.Add(Representations.VirtualIp(vip));
            }

            var body = new JsonObject { ["virtualIps"] = list };
            ListQuery.AddLinks(body, paged, page, http.Request);
            return JsonNodeResult.Ok(body);
        });

        // Rackspace v1.0 "Add virtual IP version 6": body {"ipVersion":"IPV6","type":"PUBLIC"} (pkgcloud addIPV6VirtualIp;
        // {"virtualIp":{...}} is read too), 202 with the new virtual IP {"id","address","type","ipVersion"}.
        group.MapPost("/loadbalancers/{id:int}/virtualips", async (int account, int id, HttpContext http) =>
        {
            var reader = await EndpointHelpers.FindThenReadAsync(service, account, id, http, "virtualIp");
            if (reader.Error is { } bad)
            {
                return JsonNodeResult.Error(bad);
            }

            var fields = reader.Value!;
            fields.CheckFields(FieldSet.VirtualIpAdded);
            var request = new VirtualIpRequest
            {
                Path = "",
                Issues = fields.Issues,
                Type = fields.String("type"),
                IpVersion = fields.String("ipVersion"),
            };
            var outcome = await service.AddVirtualIpAsync(account, id, request, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, vip => JsonNodeResult.Accepted(Representations.VirtualIp(vip)));
        });

        // Rackspace v1.0 "Delete virtual IP" and "Bulk-delete virtual IPs" (?id=, at most BATCH_DELETE_LIMIT): all or
        // nothing, at least one virtual IP stays (400), 202 with an empty body.
        group.MapDelete("/loadbalancers/{id:int}/virtualips/{vipId:int}", async (int account, int id, int vipId, HttpContext http) =>
        {
            var outcome = await service.DeleteVirtualIpsAsync(account, id, [vipId], http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });

        group.MapDelete("/loadbalancers/{id:int}/virtualips", async (int account, int id, HttpContext http) =>
        {
            if (service.Find(account, id) is null)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            var ids = EndpointHelpers.ParseBulkIds(http.Request, "virtual IPs");
            if (ids.Error is { } bad)
            {
                return JsonNodeResult.Error(bad);
            }

            var outcome = await service.DeleteVirtualIpsAsync(account, id, ids.Value!, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });

        group.MapPut("/loadbalancers/{id:int}", async (int account, int id, HttpContext http) =>
        {
            var reader = await EndpointHelpers.FindThenReadAsync(service, account, id, http, "loadBalancer");
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

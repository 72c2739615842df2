using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tether.Core.Model;
using Tether.Management.Api;

namespace Tether.Management.Endpoints;

/// <summary>
/// The access control resources of a load balancer (Rackspace Cloud Load Balancers v1.0; docs/api.md;
/// issue 6). 200 for every GET; 202 for POST/PUT/DELETE of <c>/accesslist</c>, <c>/connectionthrottle</c>,
/// <c>/connectionlogging</c> and <c>/contentcaching</c>; 200 for PUT/DELETE of <c>/errorpage</c>. 404 for another account's or an unknown load
/// balancer, 422 while it is not ACTIVE, 400 with validation messages for invalid bodies.
/// <list type="bullet">
/// <item><c>GET /accesslist</c>: <c>{"accessList":[{"address":"10.0.0.0/8","id":1,"type":"DENY"}]}</c>, by id,
/// paginated as <see cref="ListQuery"/> (<c>limit</c>, <c>marker</c>, <c>offset</c>, <c>links</c>);
/// <c>POST</c> appends items (<c>{"accessList":[{"address","type":"ALLOW|DENY"}]}</c>; 413 past 100 items);
/// <c>DELETE ?id=1&amp;id=2</c> deletes those items (404 <c>"Network item not found"</c>), <c>DELETE /accesslist/{itemId}</c>
/// one, <c>DELETE</c> without ids all.</item>
/// <item><c>GET /connectionthrottle</c>: <c>{"connectionThrottle":{"maxConnections":10,"minConnections"?,
/// "maxConnectionRate"?,"rateInterval"?}}</c>, <c>{"connectionThrottle":{}}</c> when none; PUT sets (merged), DELETE
/// removes.</item>
/// <item><c>GET /errorpage</c>: <c>{"errorpage":{"content":"&lt;html&gt;..."}}</c> (the default page when none is
/// set); PUT <c>{"errorpage":{"content":"..."}}</c> (HTTP load balancers, at most 65536 characters); DELETE restores
/// the default.</item>
/// <item><c>GET /connectionlogging</c>: <c>{"connectionLogging":{"enabled":false}}</c>; PUT
/// <c>{"connectionLogging":{"enabled":true}}</c>.</item>
/// <item><c>GET /contentcaching</c>: <c>{"contentCaching":{"enabled":false}}</c>; PUT
/// <c>{"contentCaching":{"enabled":true}}</c> (202; HTTP load balancers only, 400 otherwise).</item>
/// </list>
/// </summary>
internal static class AccessControlEndpoints
{
    public static void Map(RouteGroupBuilder group, LoadBalancerService service)
    {
        MapAccessList(group, service);
        MapConnectionThrottle(group, service);
        MapErrorPage(group, service);
        MapConnectionLogging(group, service);
    }

    private static void MapAccessList(RouteGroupBuilder group, LoadBalancerService service)
    {
        // Pages (limit, marker, offset) as Rackspace's access list (atlas-lb getAccessListByAccountIdLoadBalancerId):
        // ListQuery.
        group.MapGet("/loadbalancers/{id:int}/accesslist", (int account, int id, HttpContext http) =>
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

            var paged = ListQuery.Apply([.. config.AccessList.OrderBy(i => i.Id)], i => i.Id, page);
            var body = new JsonObject { ["accessList"] = Representations.AccessList(paged.Items) };
            ListQuery.AddLinks(body, paged, page, http.Request);
            return JsonNodeResult.Ok(body);
        });

        group.MapPost("/loadbalancers/{id:int}/accesslist", async (int account, int id, HttpContext http) =>
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

            var outcome = await service.AddAccessListItemsAsync(account, id, body.Value, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });

        group.MapDelete("/loadbalancers/{id:int}/accesslist", async (int account, int id, HttpContext http) =>
        {
            IReadOnlyCollection<int>? ids = null;
            if (http.Request.Query.ContainsKey("id"))
            {
                var parsed = EndpointHelpers.ParseBulkIds(http.Request, "network items");
                if (parsed.Error is { } invalid)
                {
                    return JsonNodeResult.Error(invalid);
                }

                ids = parsed.Value;
            }

            var outcome = await service.DeleteAccessListItemsAsync(account, id, ids, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });

        group.MapDelete("/loadbalancers/{id:int}/accesslist/{itemId:int}", async (int account, int id, int itemId, HttpContext http) =>
        {
            var outcome = await service.DeleteAccessListItemsAsync(account, id, [itemId], http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });
    }

    private static void MapConnectionThrottle(RouteGroupBuilder group, LoadBalancerService service)
    {
        group.MapGet("/loadbalancers/{id:int}/connectionthrottle", (int account, int id) =>
            service.Find(account, id) is { } config
                ? JsonNodeResult.Ok(new JsonObject { ["connectionThrottle"] = Representations.ConnectionThrottle(config.ConnectionThrottle) })
                : JsonNodeResult.Error(ApiError.LoadBalancerNotFound));

        group.MapPut("/loadbalancers/{id:int}/connectionthrottle", async (int account, int id, HttpContext http) =>
        {
            var reader = await ReadObjectAsync(service, account, id, http, "connectionThrottle");
            if (reader.Error is { } error)
            {
                return JsonNodeResult.Error(error);
            }

            var outcome = await service.SetConnectionThrottleAsync(account, id, reader.Value!, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });

        group.MapDelete("/loadbalancers/{id:int}/connectionthrottle", async (int account, int id, HttpContext http) =>
        {
            var outcome = await service.DeleteConnectionThrottleAsync(account, id, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });
    }

    private static void MapErrorPage(RouteGroupBuilder group, LoadBalancerService service)
    {
        group.MapGet("/loadbalancers/{id:int}/errorpage", (int account, int id) =>
            service.Find(account, id) is { } config
                ? JsonNodeResult.Ok(new JsonObject { ["errorpage"] = new JsonObject { ["content"] = config.ErrorPage ?? ErrorPages.Default } })
                : JsonNodeResult.Error(ApiError.LoadBalancerNotFound));

        group.MapPut("/loadbalancers/{id:int}/errorpage", async (int account, int id, HttpContext http) =>
        {
            var reader = await ReadObjectAsync(service, account, id, http, "errorpage");
            if (reader.Error is { } error)
            {
                return JsonNodeResult.Error(error);
            }

            var outcome = await service.SetErrorPageAsync(account, id, reader.Value!, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Ok(new JsonObject()));
        });

        group.MapDelete("/loadbalancers/{id:int}/errorpage", async (int account, int id, HttpContext http) =>
        {
            var outcome = await service.DeleteErrorPageAsync(account, id, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Ok(new JsonObject()));
        });
    }

    private static void MapConnectionLogging(RouteGroupBuilder group, LoadBalancerService service)
    {
        // Rackspace v1.0 "Show/Update Content Caching": GET 200 {"contentCaching":{"enabled":bool}}; PUT 202 (HTTP load
        // balancers only; docs/api.md "Content caching").
        group.MapGet("/loadbalancers/{id:int}/contentcaching", (int account, int id) =>
            service.Find(account, id) is { } config
                ? JsonNodeResult.Ok(new JsonObject { ["contentCaching"] = Representations.ContentCaching(config) })
                : JsonNodeResult.Error(ApiError.LoadBalancerNotFound));

        group.MapPut("/loadbalancers/{id:int}/contentcaching", async (int account, int id, HttpContext http) =>
        {
            var reader = await ReadObjectAsync(service, account, id, http, "contentCaching");
            if (reader.Error is { } error)
            {
                return JsonNodeResult.Error(error);
            }

            var outcome = await service.SetContentCachingAsync(account, id, reader.Value!, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });

        group.MapGet("/loadbalancers/{id:int}/connectionlogging", (int account, int id) =>
            service.Find(account, id) is { } config
                ? JsonNodeResult.Ok(new JsonObject { ["connectionLogging"] = new JsonObject { ["enabled"] = config.ConnectionLogging } })
                : JsonNodeResult.Error(ApiError.LoadBalancerNotFound));

        group.MapPut("/loadbalancers/{id:int}/connectionlogging", async (int account, int id, HttpContext http) =>
        {
            var reader = await ReadObjectAsync(service, account, id, http, "connectionLogging");
            if (reader.Error is { } error)
            {
                return JsonNodeResult.Error(error);
            }

            var outcome = await service.SetConnectionLoggingAsync(account, id, reader.Value!, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });
    }

    /// <summary>404 for an unknown load balancer, then the body's object under <paramref name="rootKey"/> (or the body
    /// itself).</summary>
    private static async Task<Outcome<FieldReader>> ReadObjectAsync(LoadBalancerService service, int account, int id, HttpContext http, string rootKey)
    {
        if (service.Find(account, id) is null)
        {
            return ApiError.LoadBalancerNotFound;
        }

        var body = await RequestJson.ReadAsync(http.Request, http.RequestAborted);
        if (body.Error is { } bad)
        {
            return bad;
        }

        var issues = new ReadIssues();
        var element = RequestJson.UnwrapObject(body.Value, rootKey, issues, out var shapeError);
        if (element is null)
        {
            return shapeError!;
        }

        return new FieldReader(element.Value, rootKey, issues);
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tether.Core.Health;
using Tether.Core.Model;
using Tether.Management.Api;
using Tether.Management.Requests;

namespace Tether.Management.Endpoints;

/// <summary>
/// Active health monitoring (Rackspace Cloud Load Balancers v1.0; docs/api.md; issue 6):
/// <list type="bullet">
/// <item><c>GET /loadbalancers/{id}/healthmonitor</c> (200): <c>{"healthMonitor":{"type","delay","timeout",
/// "attemptsBeforeDeactivation","path"?,"statusRegex"?,"bodyRegex"?,"hostHeader"?}}</c> (delay and timeout in
/// seconds), or <c>{"healthMonitor":{}}</c> when there is none.</item>
/// <item><c>PUT /loadbalancers/{id}/healthmonitor</c> (202, empty body): replaces the monitor; the body comes with or
/// without its <c>healthMonitor</c> root key. 400 <c>Validation Failure</c> naming each field and its range (see
/// <see cref="Validation.HealthMonitorValidator"/>).</item>
/// <item><c>DELETE /loadbalancers/{id}/healthmonitor</c> (202): removes it; every node is ONLINE again. 422 when
/// there is none.</item>
/// <item><c>GET /loadbalancers/{id}/nodes/events</c> (200): the last node status changes (at most 1000, oldest first,
/// kept in memory) as Rackspace's node service events: <c>{"nodeServiceEvents":[{"id","detailedMessage","nodeId",
/// "type":"UPDATE_NODE","description","category":"UPDATE","severity":"INFO","relativeUri","accountId",
/// "loadbalancerId","title":"Node Status Updated","author":"Tether","created","callbackHost"}],"links":[]}</c>;
/// <c>GET /loadbalancers/{id}/nodes/{nodeId}/events</c> (the events' <c>relativeUri</c>) gives one node's (404
/// <c>Node not found</c> for a node the load balancer does not hold).</item>
/// </list>
/// Every path is 404 <c>Load balancer not found</c> for another account's load balancer; PUT and DELETE are 422 while
/// the load balancer is immutable.
/// </summary>
internal static class HealthMonitorEndpoints
{
    /// <summary>The <c>author</c> of node service events (Rackspace writes <c>Rackspace Cloud</c>).</summary>
    public const string EventAuthor = "Tether";

    public static void Map(RouteGroupBuilder group, LoadBalancerService service)
    {
        group.MapGet("/loadbalancers/{id:int}/healthmonitor", (int account, int id) =>
        {
            if (service.Find(account, id) is not { } config)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            var body = config.HealthMonitor is { } monitor ? Representations.HealthMonitor(monitor) : new JsonObject();
            return JsonNodeResult.Ok(new JsonObject { ["healthMonitor"] = body });
        });

        group.MapPut("/loadbalancers/{id:int}/healthmonitor", async (int account, int id, HttpContext http) =>
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
            var element = RequestJson.UnwrapObject(body.Value, "healthMonitor", issues, out var shapeError);
            if (element is null)
            {
                return JsonNodeResult.Error(shapeError!);
            }

            var request = HealthMonitorRequest.ReadChecked(new FieldReader(element.Value, "", issues));
            var outcome = await service.SetHealthMonitorAsync(account, id, request, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });

        group.MapDelete("/loadbalancers/{id:int}/healthmonitor", async (int account, int id, HttpContext http) =>
        {
            var outcome = await service.DeleteHealthMonitorAsync(account, id, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });

        group.MapGet("/loadbalancers/{id:int}/nodes/events", (int account, int id, HttpContext http) =>
            service.Find(account, id) is { } config
                ? Events(config, null, http)
                : JsonNodeResult.Error(ApiError.LoadBalancerNotFound));

        group.MapGet("/loadbalancers/{id:int}/nodes/{nodeId:int}/events", (int account, int id, int nodeId, HttpContext http) =>
        {
            if (service.Find(account, id) is not { } config)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            return config.Nodes.Any(n => n.Id == nodeId) ? Events(config, nodeId, http) : JsonNodeResult.Error(ApiError.NodeNotFound);
        });
    }

    /// <summary>The events of the load balancer, or of one of its nodes (the event's <c>relativeUri</c>).</summary>
    private static JsonNodeResult Events(LoadBalancerConfig config, int? nodeId, HttpContext http)
    {
        var events = new JsonArray();
        if (LiveStatus.Runtime(http, config.Id) is { } runtime)
        {
            foreach (var change in runtime.NodeEvents.Snapshot())
            {
                if (nodeId is null || change.NodeId == nodeId)
                {
                    events.Add(NodeServiceEvent(config, change));
                }
            }
        }

        return JsonNodeResult.Ok(new JsonObject { ["nodeServiceEvents"] = events, ["links"] = new JsonArray() });
    }

    /// <summary>One event in Rackspace's shape (field names, fixed values and the description's wording).</summary>
    public static JsonObject NodeServiceEvent(LoadBalancerConfig config, NodeStatusEvent change)
    {
        var status = ApiNames.NodeStatus(change.Status);
        var drained = change.Kind == NodeEventKind.Drained;
        return new JsonObject
        {
            ["id"] = change.Id,
            ["detailedMessage"] = change.DetailedMessage,
            ["nodeId"] = change.NodeId,
            ["type"] = "UPDATE_NODE",
            // Drain progress (issue 13): a DRAINING node that has nothing left gets its own description and title.
            ["description"] = drained
                ? $"Node '{change.NodeId}' drained for load balancer '{config.Id}'"
                : $"Node '{change.NodeId}' status changed to '{status}' for load balancer '{config.Id}'",
            ["category"] = "UPDATE",
            ["severity"] = "INFO",
            ["relativeUri"] = $"/{config.AccountId}/loadbalancers/{config.Id}/nodes/{change.NodeId}/events",
            ["accountId"] = config.AccountId,
            ["loadbalancerId"] = config.Id,
            ["title"] = drained ? "Node Drained" : "Node Status Updated",
            ["author"] = EventAuthor,
            ["created"] = change.Created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["callbackHost"] = Environment.MachineName,
        };
    }
}

using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tether.Management.Api;
using Tether.Management.Requests;

namespace Tether.Management.Endpoints;

/// <summary>
/// <c>/loadbalancers/{id}/sessionpersistence</c> (seed 000; docs/session-persistence.md and docs/api.md): GET (200;
/// <c>{"sessionPersistence":{}}</c> when disabled), PUT (202; replaces it), DELETE (202; 422 when already disabled).
/// </summary>
internal static class SessionPersistenceEndpoints
{
    public static void Map(RouteGroupBuilder group, LoadBalancerService service)
    {
        group.MapGet("/loadbalancers/{id:int}/sessionpersistence", (int account, int id) =>
        {
            if (service.Find(account, id) is not { } config)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            var body = config.SessionPersistence is { } persistence
                ? Representations.SessionPersistence(persistence)
                : new JsonObject();
            return JsonNodeResult.Ok(new JsonObject { ["sessionPersistence"] = body });
        });

        group.MapPut("/loadbalancers/{id:int}/sessionpersistence", async (int account, int id, HttpContext http) =>
        {
            var reader = await EndpointHelpers.FindThenReadAsync(service, account, id, http, "sessionPersistence");
            if (reader.Error is { } bad)
            {
                return JsonNodeResult.Error(bad);
            }

            var request = SessionPersistenceRequest.ReadChecked(reader.Value!);
            var outcome = await service.SetSessionPersistenceAsync(account, id, request, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });

        group.MapDelete("/loadbalancers/{id:int}/sessionpersistence", async (int account, int id, HttpContext http) =>
        {
            var outcome = await service.DisableSessionPersistenceAsync(account, id, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });
    }
}

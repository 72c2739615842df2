using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tether.Management.Api;
using Tether.Management.Requests;

namespace Tether.Management.Endpoints;

/// <summary>
/// <c>/loadbalancers/{id}/ssltermination</c> (Rackspace v1.0; docs/api.md: 200 for GET, PUT and DELETE):
/// GET shows <c>{"sslTermination":{"certificate","intermediateCertificate"?,"enabled","securePort",
/// "secureTrafficOnly"}}</c> and never the private key (<c>{"sslTermination":{}}</c> when none); PUT configures or
/// changes it; DELETE removes it (404 when none).
/// </summary>
internal static class SslTerminationEndpoints
{
    public static void Map(RouteGroupBuilder group, LoadBalancerService service)
    {
        group.MapGet("/loadbalancers/{id:int}/ssltermination", (int account, int id) =>
        {
            if (service.Find(account, id) is not { } config)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            var body = new JsonObject();
            if (config.SslTermination is { } ssl)
            {
                body["certificate"] = ssl.Certificate;
                if (ssl.IntermediateCertificate is not null)
                {
                    body["intermediateCertificate"] = ssl.IntermediateCertificate;
                }

                body["enabled"] = ssl.Enabled;
                body["securePort"] = ssl.SecurePort;
                body["secureTrafficOnly"] = ssl.SecureTrafficOnly;
            }

            return JsonNodeResult.Ok(new JsonObject { ["sslTermination"] = body });
        });

        group.MapPut("/loadbalancers/{id:int}/ssltermination", async (int account, int id, HttpContext http) =>
        {
            var reader = await EndpointHelpers.FindThenReadAsync(service, account, id, http, "sslTermination");
            if (reader.Error is { } bad)
            {
                return JsonNodeResult.Error(bad);
            }

            var request = SslTerminationRequest.Read(reader.Value!);
            var outcome = await service.SetSslTerminationAsync(account, id, request, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Ok(new JsonObject()));
        });

        group.MapDelete("/loadbalancers/{id:int}/ssltermination", async (int account, int id, HttpContext http) =>
        {
            var outcome = await service.DeleteSslTerminationAsync(account, id, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Ok(new JsonObject()));
        });
    }
}

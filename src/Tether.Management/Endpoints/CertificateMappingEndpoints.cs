using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tether.Core.Model;
using Tether.Management.Api;
using Tether.Management.Requests;

namespace Tether.Management.Endpoints;

/// <summary>
/// <c>/loadbalancers/{id}/ssltermination/certificatemappings</c> (Rackspace v1.0 "Certificate mappings"; docs/api.md):
/// the certificates the TLS listener picks by the client's SNI host name. Every call needs SSL termination (404
/// <c>"SSL termination not found"</c> otherwise, as Rackspace); an unknown mapping is 404
/// <c>"Certificate mapping not found"</c>. The private key is never returned.
/// <list type="bullet">
/// <item>GET: 200 <c>{"certificateMappings":[{"certificateMapping":{"id","hostName"}}]}</c> (only id and host name,
/// as Rackspace).</item>
/// <item>POST <c>{"certificateMapping":{"hostName","certificate","privateKey","intermediateCertificate"?}}</c>: 202
/// with the mapping, <c>{"certificateMapping":{"id","hostName","certificate","intermediateCertificate"?}}</c>; 413
/// past <see cref="Limits.CertificateMappingLimit"/>; 422 for a host name already mapped.</item>
/// <item>GET <c>/{mappingId}</c>: 200 <c>{"certificateMapping":{"id","hostName","certificate","intermediateCertificate"?}}</c>.</item>
/// <item>PUT <c>/{mappingId}</c>: 202, any of the four fields (an empty <c>intermediateCertificate</c> removes the
/// chain). DELETE <c>/{mappingId}</c>: 202.</item>
/// </list>
/// </summary>
internal static class CertificateMappingEndpoints
{
    private const string Root = "/loadbalancers/{id:int}/ssltermination/certificatemappings";

    public static void Map(RouteGroupBuilder group, LoadBalancerService service)
    {
        group.MapGet(Root, (int account, int id) =>
        {
            if (service.Find(account, id) is not { } config)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            if (config.SslTermination is not { } ssl)
            {
                return JsonNodeResult.Error(ApiError.SslTerminationNotFound);
            }

            var list = new JsonArray();
            foreach (var m in ssl.CertificateMappings)
            {
                list.Add(new JsonObject
                {
                    ["certificateMapping"] = new JsonObject { ["id"] = m.Id, ["hostName"] = m.HostName },
                });
            }

            return JsonNodeResult.Ok(new JsonObject { ["certificateMappings"] = list });
        });

        group.MapPost(Root, async (int account, int id, HttpContext http) =>
        {
            var reader = await EndpointHelpers.FindThenReadAsync(service, account, id, http, "certificateMapping");
            if (reader.Error is { } bad)
            {
                return JsonNodeResult.Error(bad);
            }

            var request = CertificateMappingRequest.Read(reader.Value!);
            var outcome = await service.AddCertificateMappingAsync(account, id, request, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, m => JsonNodeResult.Accepted(new JsonObject { ["certificateMapping"] = Show(m) }));
        });

        group.MapGet(Root + "/{mappingId:int}", (int account, int id, int mappingId) =>
        {
            if (service.Find(account, id) is not { } config)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            if (config.SslTermination is not { } ssl)
            {
                return JsonNodeResult.Error(ApiError.SslTerminationNotFound);
            }

            foreach (var m in ssl.CertificateMappings)
            {
                if (m.Id == mappingId)
                {
                    return JsonNodeResult.Ok(new JsonObject { ["certificateMapping"] = Show(m) });
                }
            }

            return JsonNodeResult.Error(ApiError.CertificateMappingNotFound);
        });

        group.MapPut(Root + "/{mappingId:int}", async (int account, int id, int mappingId, HttpContext http) =>
        {
            var reader = await EndpointHelpers.FindThenReadAsync(service, account, id, http, "certificateMapping");
            if (reader.Error is { } bad)
            {
                return JsonNodeResult.Error(bad);
            }

            var request = CertificateMappingRequest.Read(reader.Value!);
            var outcome = await service.UpdateCertificateMappingAsync(account, id, mappingId, request, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });

        group.MapDelete(Root + "/{mappingId:int}", async (int account, int id, int mappingId, HttpContext http) =>
        {
            var outcome = await service.DeleteCertificateMappingAsync(account, id, mappingId, http.RequestAborted);
            return EndpointHelpers.Respond(outcome, _ => JsonNodeResult.Accepted());
        });
    }

    /// <summary><c>{"id","hostName","certificate","intermediateCertificate"?}</c>: never the private key.</summary>
    private static JsonObject Show(CertificateMappingConfig m)
    {
        var body = new JsonObject { ["id"] = m.Id, ["hostName"] = m.HostName, ["certificate"] = m.Certificate };
        if (m.IntermediateCertificate is not null)
        {
            body["intermediateCertificate"] = m.IntermediateCertificate;
        }

        return body;
    }
}

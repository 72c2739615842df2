using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Management.Api;

namespace Tether.Management.Endpoints;

/// <summary>
/// The catalogs (GET, 200; Rackspace v1.0 names): <c>/loadbalancers/protocols</c>
/// (<c>{"protocols":[{"name","port"}]}</c> from <see cref="Protocols.All"/>), <c>/loadbalancers/algorithms</c>
/// (<c>{"algorithms":[{"name"}]}</c>), <c>/loadbalancers/absolutelimits</c> (<c>{"absolute":[{"name","value"}]}</c>)
/// and <c>/loadbalancers/alloweddomains</c> (<c>{"allowedDomains":[]}</c>: node addresses are IP addresses only).
/// </summary>
internal static class CatalogEndpoints
{
    public static void Map(RouteGroupBuilder group)
    {
        group.MapGet("/loadbalancers/protocols", () => JsonNodeResult.Ok(ProtocolsBody()));
        group.MapGet("/loadbalancers/algorithms", () => JsonNodeResult.Ok(AlgorithmsBody()));
        group.MapGet("/loadbalancers/absolutelimits", () => JsonNodeResult.Ok(LimitsBody()));
        // Rackspace v1.0 "List Allowed Domains": the domain names a node address may use. Tether's node addresses are
        // IP addresses only (no name is resolved), so the list is empty: {"allowedDomains":[]}.
        group.MapGet("/loadbalancers/alloweddomains", () => JsonNodeResult.Ok(new JsonObject { ["allowedDomains"] = new JsonArray() }));
    }

    private static JsonObject ProtocolsBody() => new()
    {
        ["protocols"] = new JsonArray([.. Protocols.All.Select(p => (JsonNode)new JsonObject
        {
            ["name"] = p.Name,
            ["port"] = p.DefaultPort,
        })]),
    };

    private static JsonObject AlgorithmsBody() => new()
    {
        ["algorithms"] = new JsonArray([.. AlgorithmNames.All.Select(a => (JsonNode)new JsonObject { ["name"] = a })]),
    };

    private static JsonObject LimitsBody() => new()
    {
        ["absolute"] = new JsonArray([.. Limits.All.Select(l => (JsonNode)new JsonObject
        {
            ["name"] = l.Name,
            ["value"] = l.Value,
        })]),
    };
}

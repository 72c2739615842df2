using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Management.Api;

namespace Tether.Management.Endpoints;

/// <summary>
/// The catalogs (GET, 200; Rackspace v1.0 names): <c>/loadbalancers/protocols</c>
/// (<c>{"protocols":[{"name","port"}]}</c> from <see cref="Protocols.All"/>), <c>/loadbalancers/algorithms</c>
/// (<c>{"algorithms":[{"name"}]}</c>) and <c>/loadbalancers/absolutelimits</c> (<c>{"absolute":[{"name","value"}]}</c>).
/// <c>/loadbalancers/alloweddomains</c> and <c>/limits</c> are in <see cref="LimitsEndpoints"/>.
/// </summary>
internal static class CatalogEndpoints
{
    public static void Map(RouteGroupBuilder group)
    {
        group.MapGet("/loadbalancers/protocols", () => JsonNodeResult.Ok(ProtocolsBody()));
        group.MapGet("/loadbalancers/algorithms", () => JsonNodeResult.Ok(AlgorithmsBody()));
        group.MapGet("/loadbalancers/absolutelimits", () => JsonNodeResult.Ok(LimitsBody()));
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

    private static JsonObject LimitsBody() => new() { ["absolute"] = AbsoluteLimits() };

    /// <summary>The absolute limits, <c>[{"name","value"}]</c> (also in <c>GET /limits</c>).</summary>
    internal static JsonArray AbsoluteLimits() => new([.. Limits.All.Select(l => (JsonNode)new JsonObject
    {
        ["name"] = l.Name,
        ["value"] = l.Value,
    })]);
}

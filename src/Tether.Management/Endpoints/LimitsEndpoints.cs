using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tether.Management.Api;
using Tether.Management.Auth;

namespace Tether.Management.Endpoints;

/// <summary>
/// <c>GET /limits</c> (Rackspace v1.0 "Retrieve account limits"): <c>{"limits":{"rate":[{"uri","regex","limit":
/// [{"verb","value","remaining","unit","next-available"}]}],"absolute":[{"name","value"}]}}</c>, the caller's account's
/// rate limits (<see cref="ApiRateLimiter"/>; <c>rate</c> is empty when they are off) and the absolute limits of
/// <c>/loadbalancers/absolutelimits</c>. <c>GET /loadbalancers/alloweddomains</c> (Rackspace v1.0 "List allowed
/// domains"): <c>{"allowedDomains":[{"allowedDomain":{"name"}}]}</c> from <see cref="ManagementOptions.AllowedDomains"/>
/// (empty by default).
/// </summary>
internal static class LimitsEndpoints
{
    public static void Map(RouteGroupBuilder group, ManagementOptions options, ApiRateLimiter rateLimiter)
    {
        group.MapGet("/limits", (HttpContext http) =>
        {
            var account = int.Parse(Convert.ToString(http.Request.RouteValues["account"], CultureInfo.InvariantCulture)!, CultureInfo.InvariantCulture);
            return JsonNodeResult.Ok(new JsonObject
            {
                ["limits"] = new JsonObject
                {
                    ["rate"] = rateLimiter.RateBody(account),
                    ["absolute"] = CatalogEndpoints.AbsoluteLimits(),
                },
            });
        });

        // The names are read once: the setting changes with a restart only.
        var domains = options.AllowedDomains.Select(d => d.Trim().TrimEnd('.')).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        group.MapGet("/loadbalancers/alloweddomains", () => JsonNodeResult.Ok(new JsonObject
        {
            ["allowedDomains"] = new JsonArray([.. domains.Select(d => (JsonNode)new JsonObject
            {
                ["allowedDomain"] = new JsonObject { ["name"] = d },
            })]),
        }));
    }
}

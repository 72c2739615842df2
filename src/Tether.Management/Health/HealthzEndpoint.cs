using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tether.Management.Api;
using Tether.Management.OpenApi;

namespace Tether.Management.Health;

/// <summary>
/// <c>GET /healthz</c> on the management port: readiness for keepalived's <c>vrrp_script</c>, a cloud or upstream load
/// balancer's health check (issue 14 item 4; docs/operations.md "Readiness"). No token and no rate limit (it sits
/// outside <c>/v1.0/</c>, before the API's filter), and it shows only check names and fixed reasons.
/// </summary>
internal static class HealthzEndpoint
{
    /// <summary>The path.</summary>
    public const string Path = "/healthz";

    /// <summary>Maps <c>GET /healthz</c>: 200 <c>{"status":"ready","checks":[{"name":"dataPlane","ready":true},...]}</c>
    /// when every <see cref="IReadinessCheck"/> in DI is ready; otherwise 503 with <c>"status":"notReady"</c>, the
    /// Rackspace error fields <c>code</c> and <c>message</c> (the reasons, "; "-joined) and each check's
    /// <c>reason</c>. <c>Cache-Control: no-store</c>.</summary>
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var checks = endpoints.ServiceProvider.GetServices<IReadinessCheck>().ToArray();
        var logger = endpoints.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(HealthzEndpoint).FullName!);
        endpoints.MapGet(Path, async (HttpContext http) =>
        {
            http.Response.Headers.CacheControl = "no-store";
            var list = new JsonArray();
            var reasons = new List<string>();
            foreach (var check in checks)
            {
                ReadinessResult result;
                try
                {
                    result = await check.CheckAsync(http.RequestAborted).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException || !http.RequestAborted.IsCancellationRequested)
                {
                    ManagementLog.ReadinessCheckFailed(logger, e, check.Name);
                    result = ReadinessResult.NotReady("the check failed (see the log)");
                }

                var item = new JsonObject { ["name"] = check.Name, ["ready"] = result.IsReady };
                if (!result.IsReady)
                {
                    var reason = result.Reason ?? "not ready";
                    item["reason"] = reason;
                    reasons.Add($"{check.Name}: {reason}");
                }

                list.Add(item);
            }

            if (reasons.Count == 0)
            {
                return JsonNodeResult.Ok(new JsonObject { ["status"] = "ready", ["checks"] = list });
            }

            return new JsonNodeResult(new JsonObject
            {
                ["status"] = "notReady",
                ["code"] = StatusCodes.Status503ServiceUnavailable,
                ["message"] = "Not ready: " + string.Join("; ", reasons),
                ["checks"] = list,
            }, StatusCodes.Status503ServiceUnavailable);
        }).WithRouteDocs();
    }
}

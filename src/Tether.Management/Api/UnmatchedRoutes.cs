using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Tether.Management.Auth;

namespace Tether.Management.Api;

/// <summary>
/// Error bodies for the calls under <c>/v1.0/</c> that no endpoint serves, so that SDKs that read the body (pkgcloud
/// throws on an empty one) get Rackspace's fault: a path that matches no route answers 404
/// <c>{"message":"Resource not found","code":404,"details"}</c> (Rackspace's itemNotFound fault), a known path with a
/// method it does not serve answers 405 <c>{"message":"Method not allowed","code":405,"details"}</c> with the
/// <c>Allow</c> header routing sets. The token is checked first, as for every API call (401 without a valid token of
/// the path's account, so an unknown path says nothing more than a known one to a caller without a token); the role
/// and rate limits are not (nothing is served). docs/api.md "Conventions".
/// </summary>
internal static class UnmatchedRoutes
{
    /// <summary>ASP.NET Core routing's display name for the endpoint that answers 405
    /// (<c>HttpMethodMatcherPolicy</c>).</summary>
    private const string MethodNotAllowedEndpoint = "405 HTTP Method Not Supported";

    /// <summary>Adds the middleware; it must run after routing has picked the endpoint (a <c>WebApplication</c>'s
    /// middleware does).</summary>
    public static void Use(IApplicationBuilder app, ApiFilter filter, int? metricsPort)
    {
        app.Use(async (http, next) =>
        {
            var endpoint = http.GetEndpoint();
            var notFound = endpoint is null;
            var badMethod = endpoint?.DisplayName == MethodNotAllowedEndpoint;
            if (!(notFound || badMethod) || !http.Request.Path.StartsWithSegments("/v1.0", StringComparison.Ordinal)
                || (metricsPort is { } port && http.Connection.LocalPort == port))
            {
                await next(http);
                return;
            }

            var refusal = filter.Authenticate(http, out _, out _);
            if (refusal is not null)
            {
                await JsonNodeResult.Error(refusal).ExecuteAsync(http);
                return;
            }

            var path = http.Request.Path.Value ?? "";
            if (notFound)
            {
                await JsonNodeResult.Error(new ApiError(404, "Resource not found",
                    $"No resource at {path}; docs/api.md lists the API's paths.")).ExecuteAsync(http);
                return;
            }

            // Routing's 405 endpoint sets the status and the Allow header and writes no body.
            await next(http);
            if (!http.Response.HasStarted)
            {
                var allow = http.Response.Headers.Allow.ToString();
                await JsonNodeResult.Error(new ApiError(405, "Method not allowed",
                    $"{http.Request.Method} is not allowed on {path}; allowed: {allow}.")).ExecuteAsync(http);
            }
        });
    }
}

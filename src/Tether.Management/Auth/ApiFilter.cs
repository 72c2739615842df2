using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tether.Management.Api;

namespace Tether.Management.Auth;

/// <summary>
/// Runs around every API endpoint: authenticates <c>X-Auth-Token</c> (missing or unknown: 401; a token of another
/// account than the path's <c>{account}</c>: 401; docs/api.md), and turns an unhandled exception into a flat
/// 500 body.
/// </summary>
internal sealed class ApiFilter(TokenAuthenticator authenticator, ILogger<ApiFilter> logger) : IEndpointFilter
{
    /// <summary>The header that carries the token (Rackspace).</summary>
    public const string TokenHeader = "X-Auth-Token";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var headers = http.Request.Headers[TokenHeader];
        var account = headers.Count == 1 ? authenticator.FindAccount(headers[0]) : null;
        if (account is null)
        {
            return JsonNodeResult.Error(new ApiError(401, "No valid token provided"));
        }

        var pathAccount = Convert.ToString(http.Request.RouteValues["account"], CultureInfo.InvariantCulture);
        if (!int.TryParse(pathAccount, NumberStyles.Integer, CultureInfo.InvariantCulture, out var requested)
            || requested != account)
        {
            return JsonNodeResult.Error(new ApiError(401, "No valid token provided",
                $"The token does not belong to account {pathAccount}."));
        }

        // Who is calling, for the audit log of the changes this call makes (never the token itself).
        var resource = http.Request.Path.Value ?? "";
        var prefix = string.Concat("/v1.0/", pathAccount);
        Audit.AuditActor.Current = new Audit.AuditActor(TokenId.Of(headers[0]!), account.Value, http.Request.Method,
            resource.StartsWith(prefix, StringComparison.Ordinal) ? resource[prefix.Length..] : resource);
        try
        {
            return await next(context);
        }
        catch (Exception ex) when (!http.RequestAborted.IsCancellationRequested)
        {
            ManagementLog.UnhandledError(logger, ex, http.Request.Method, http.Request.Path);
            return JsonNodeResult.Error(new ApiError(500, "Internal server error", "See the server log."));
        }
    }
}

using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tether.Management.Api;

namespace Tether.Management.Auth;

/// <summary>
/// Runs around every API endpoint, in this order (docs/api.md "Authentication", "Roles", "Rate limits"):
/// authenticates <c>X-Auth-Token</c> (missing or unknown: 401; a token of another account than the path's
/// <c>{account}</c>: 401); checks the token's role allows the method (observer GET, creator GET/POST/PUT, admin all;
/// else 403 "You are forbidden to perform the operation", Repose's wording for Rackspace's RBAC); takes the call from
/// the account's rate limits (<see cref="ApiRateLimiter"/>; over: 413 with <c>Retry-After</c> and Rackspace's
/// overLimit body). A refused call reaches no endpoint, so it changes nothing. Then turns an unhandled exception into a
/// flat 500 body.
/// </summary>
internal sealed class ApiFilter(TokenAuthenticator authenticator, ApiRateLimiter rateLimiter, ILogger<ApiFilter> logger) : IEndpointFilter
{
    /// <summary>The header that carries the token (Rackspace).</summary>
    public const string TokenHeader = "X-Auth-Token";

    /// <summary>Repose's message for a call the caller's role does not allow (Rackspace's API gateway).</summary>
    public const string ForbiddenMessage = "You are forbidden to perform the operation";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var refusal = Authenticate(http, out var grant, out var pathAccount);
        if (refusal is not null)
        {
            return JsonNodeResult.Error(refusal);
        }

        // Who is calling, for the audit log of the changes this call makes (never the token itself).
        var tokenId = TokenId.Of(http.Request.Headers[TokenHeader][0]!);
        var resource = http.Request.Path.Value ?? "";
        var prefix = string.Concat("/v1.0/", pathAccount);
        resource = resource.StartsWith(prefix, StringComparison.Ordinal) ? resource[prefix.Length..] : resource;
        var method = http.Request.Method;
        if (!grant.Role.Allows(method))
        {
            var needed = TokenRoles.Needed(method);
            ManagementLog.RoleRefused(logger, tokenId, grant.Role.Name(), grant.AccountId, method, resource, needed.Name());
            return JsonNodeResult.Error(new ApiError(403, ForbiddenMessage,
                $"The token's role {grant.Role.Name()} does not allow {method}; {method} needs the role {needed.Name()}{(needed == TokenRole.Creator ? " or admin" : "")}."));
        }

        if (rateLimiter.TryAcquire(grant.AccountId, method) is { } over)
        {
            http.Response.Headers.RetryAfter = ApiRateLimiter.RetryAfterSeconds(over.RetryAfter).ToString(CultureInfo.InvariantCulture);
            return new JsonNodeResult(rateLimiter.OverLimitBody(over.Rule, over.RetryAfter, grant.AccountId), StatusCodes.Status413PayloadTooLarge);
        }

        Audit.AuditActor.Current = new Audit.AuditActor(tokenId, grant.AccountId, method, resource);
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

    /// <summary>
    /// The token check of every call under <c>/v1.0/{account}</c>: null when <c>X-Auth-Token</c> is one known token of
    /// the path's account (its grant in <paramref name="grant"/>), else the 401 to answer.
    /// </summary>
    /// <param name="http">The call.</param>
    /// <param name="grant">The token's account and role when it is valid.</param>
    /// <param name="pathAccount">The <c>{account}</c> segment of the path as written (empty when there is none).</param>
    public ApiError? Authenticate(HttpContext http, out TokenGrant grant, out string pathAccount)
    {
        var headers = http.Request.Headers[TokenHeader];
        var found = headers.Count == 1 ? authenticator.Find(headers[0]) : null;
        pathAccount = PathAccount(http);
        grant = found ?? default;
        if (found is null)
        {
            return new ApiError(401, "No valid token provided");
        }

        if (!int.TryParse(pathAccount, NumberStyles.Integer, CultureInfo.InvariantCulture, out var requested)
            || requested != grant.AccountId)
        {
            return new ApiError(401, "No valid token provided", $"The token does not belong to account {pathAccount}.");
        }

        return null;
    }

    private static string PathAccount(HttpContext http)
    {
        if (http.Request.RouteValues.TryGetValue("account", out var routed) && routed is not null)
        {
            return Convert.ToString(routed, CultureInfo.InvariantCulture) ?? "";
        }

        // No route matched (404, 405): the segment after /v1.0/.
        var path = http.Request.Path.Value ?? "";
        if (!path.StartsWith("/v1.0/", StringComparison.Ordinal))
        {
            return "";
        }

        var rest = path["/v1.0/".Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? rest : rest[..slash];
    }
}

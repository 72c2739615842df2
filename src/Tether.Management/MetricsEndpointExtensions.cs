using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tether.Management.Api;
using Tether.Management.Auth;

using Tether.Management.OpenApi;

namespace Tether.Management;

/// <summary>Maps <c>GET /metrics</c> (Prometheus text format) as <see cref="ManagementOptions.MetricsRequireToken"/>
/// and <see cref="ManagementOptions.MetricsUrl"/> say (composition entry point for the executable).</summary>
public static class MetricsEndpointExtensions
{
    /// <summary>The path Prometheus scrapes.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>The content type of the Prometheus text exposition format, version 0.0.4.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>
    /// Maps <c>GET /metrics</c>, answered by <paramref name="export"/> (which writes the whole exposition to the
    /// stream). With <see cref="ManagementOptions.MetricsRequireToken"/>, a scrape needs a valid API token
    /// (any account's: the metrics cover every load balancer) in <c>X-Auth-Token</c> or <c>Authorization: Bearer</c> and gets the API's 401 body without one. With
    /// <see cref="ManagementOptions.MetricsUrl"/>, connections to that URL's port answer <c>/metrics</c> only (404 for
    /// everything else, the API included) and the management port answers 404 to <c>/metrics</c>; the host must
    /// listen on both URLs (<see cref="ListenUrls"/>). Needs
    /// <see cref="ManagementServiceCollectionExtensions.AddTetherManagement"/>.
    /// </summary>
    /// <param name="app">The application.</param>
    /// <param name="export">Writes the metrics, for example prometheus-net's
    /// <c>CollectorRegistry.CollectAndExportAsTextAsync</c>.</param>
    /// <returns>The endpoint, for further conventions.</returns>
    public static IEndpointConventionBuilder MapTetherMetrics(this WebApplication app, Func<Stream, CancellationToken, Task> export)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(export);
        var options = app.Services.GetRequiredService<ManagementOptions>();
        var metricsPort = MetricsPort(options);
        if (metricsPort is { } port)
        {
            // Decided by the local port of the connection, never by the Host field (the client chooses that).
            app.Use((http, next) =>
            {
                var isMetrics = http.Request.Path.Equals(MetricsPath, StringComparison.OrdinalIgnoreCase);
                if ((http.Connection.LocalPort == port) != isMetrics)
                {
                    http.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }

                return next(http);
            });
        }

        // A Func, not a RequestDelegate, so that ApiExplorer (the API description, OpenApi/RouteDocs) sees the route.
        var endpoint = app.MapGet(MetricsPath, (Func<HttpContext, Task>)(async http =>
        {
            http.Response.ContentType = ContentType;
            await export(http.Response.Body, http.RequestAborted).ConfigureAwait(false);
        })).WithRouteDocs();
        if (options.MetricsRequireToken)
        {
            var authenticator = app.Services.GetRequiredService<TokenAuthenticator>();
            endpoint.AddEndpointFilter((context, next) =>
                authenticator.FindAccount(ScrapeToken(context.HttpContext.Request)) is not null
                    ? next(context)
                    : ValueTask.FromResult<object?>(JsonNodeResult.Error(new ApiError(401, "No valid token provided"))));
        }

        return endpoint;
    }

    /// <summary>The token of a scrape: <c>X-Auth-Token</c> as the API takes it, or <c>Authorization: Bearer TOKEN</c>
    /// (what Prometheus sends with <c>authorization: {credentials_file: ...}</c>); null when neither is given once.</summary>
    private static string? ScrapeToken(HttpRequest request)
    {
        var headers = request.Headers[ApiFilter.TokenHeader];
        if (headers.Count == 1)
        {
            return headers[0];
        }

        var authorization = request.Headers.Authorization;
        const string Bearer = "Bearer ";
        return authorization.Count == 1 && authorization[0] is { } value && value.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase)
            ? value[Bearer.Length..].Trim()
            : null;
    }

    /// <summary>The URLs the host must listen on: <see cref="ManagementOptions.ListenUrl"/>, and
    /// <see cref="ManagementOptions.MetricsUrl"/> when set, separated by <c>;</c> (as <c>UseUrls</c> takes them).</summary>
    public static string ListenUrls(ManagementOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return string.IsNullOrEmpty(options.MetricsUrl) ? options.ListenUrl : options.ListenUrl + ";" + options.MetricsUrl;
    }

    /// <summary>The port of <see cref="ManagementOptions.MetricsUrl"/>, or null when metrics stay on the management
    /// port. The URL is checked by <see cref="ManagementServiceCollectionExtensions.AddTetherManagement"/>.</summary>
    internal static int? MetricsPort(ManagementOptions options) =>
        string.IsNullOrEmpty(options.MetricsUrl) ? null : new Uri(options.MetricsUrl).Port;

    /// <summary>The problem with <see cref="ManagementOptions.MetricsUrl"/>, or null when it is empty or valid:
    /// <c>http://ADDRESS:PORT</c> with a port from 1 to 65535 other than the management URL's.</summary>
    /// <remarks>Public so that a settings check (<c>tether serve --check</c>) can report it before building the host.</remarks>
    public static string? ValidateMetricsUrl(ManagementOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.MetricsUrl))
        {
            return null;
        }

        if (!Uri.TryCreate(options.MetricsUrl, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp
            || uri.AbsolutePath != "/" || string.IsNullOrEmpty(uri.Host) || uri.Port is < 1 or > 65535
            || !options.MetricsUrl.TrimEnd('/').EndsWith(":" + uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal))
        {
            return $"Management:MetricsUrl '{options.MetricsUrl}' is not valid: give http://ADDRESS:PORT with a port from 1 to 65535, for example http://127.0.0.1:9100.";
        }

        if (Uri.TryCreate(options.ListenUrl, UriKind.Absolute, out var api) && api.Port == uri.Port)
        {
            return $"Management:MetricsUrl '{options.MetricsUrl}' must use another port than the management URL '{options.ListenUrl}'.";
        }

        return null;
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Tether.Management.OpenApi.Schemas;

namespace Tether.Management.OpenApi;

/// <summary>
/// Attaches a route's <see cref="RouteDoc"/> (found by method and route template in <see cref="RouteDocs.All"/>) to its
/// endpoint as the metadata ApiExplorer reads: tag, summary, the request body (<see cref="IAcceptsMetadata"/>), the
/// success and error responses (<see cref="IProducesResponseTypeMetadata"/>), and the <see cref="RouteDoc"/> itself for
/// <see cref="ApiOperationTransformer"/>. A route without an entry gets nothing (the contract test names it).
/// </summary>
internal static class RouteDocConvention
{
    private static readonly string[] Json = ["application/json"];

    /// <summary>The shared errors of every <c>/v1.0</c> route: no valid token, a role that may not, the rate limit.</summary>
    private static readonly int[] SharedErrors = [401, 403, 413];

    /// <summary>The shared errors of every <c>/v1.0</c> write: the store failed, the cluster store is away.</summary>
    private static readonly int[] WriteErrors = [500, 503];

    /// <summary>Adds the convention to <paramref name="builder"/>.</summary>
    public static TBuilder WithRouteDocs<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(Apply);
        return builder;
    }

    /// <summary>The <see cref="RouteDoc"/> of <paramref name="method"/> and <paramref name="template"/> (the full route
    /// template, <c>/v1.0/{account:int}/...</c> or outside it), or null.</summary>
    public static RouteDoc? Find(string method, string? template)
    {
        if (template is null)
        {
            return null;
        }

        var prefix = ManagementEndpointRouteBuilderExtensions.RoutePrefix;
        var path = template.StartsWith(prefix, StringComparison.Ordinal) ? template[prefix.Length..] : template;
        return RouteDocs.All.GetValueOrDefault(RouteDocs.Key(method, path.Length == 0 ? "/" : path));
    }

    private static void Apply(EndpointBuilder builder)
    {
        if (builder is not RouteEndpointBuilder route
            || builder.Metadata.OfType<HttpMethodMetadata>().FirstOrDefault()?.HttpMethods is not [var method]
            || Find(method, route.RoutePattern.RawText) is not { } doc)
        {
            return;
        }

        builder.Metadata.Add(doc);
        builder.Metadata.Add(new TagsAttribute(doc.Tag));
        builder.Metadata.Add(new EndpointSummaryAttribute(doc.Summary));
        if (doc.Request is { } request)
        {
            builder.Metadata.Add(new AcceptsMetadata(Json, request));
        }

        var contentTypes = doc.Response == typeof(string) ? ["text/plain"] : doc.Response is null ? [] : Json;
        builder.Metadata.Add(new ProducesResponseTypeMetadata(doc.Success, doc.Response ?? typeof(void), contentTypes));
        var underApi = route.RoutePattern.RawText!.StartsWith(ManagementEndpointRouteBuilderExtensions.RoutePrefix, StringComparison.Ordinal);
        var errors = (doc.Errors ?? []).Concat(underApi ? SharedErrors : []).Concat(underApi && doc.IsWrite ? WriteErrors : []);
        foreach (var status in errors.Distinct().Order())
        {
            builder.Metadata.Add(new ProducesResponseTypeMetadata(status, doc.ErrorBody ?? typeof(ApiErrorBody), Json));
        }
    }
}

using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Tether.Management.OpenApi.Schemas;

namespace Tether.Management.OpenApi;

/// <summary>
/// The document as a whole: title and description, the <c>X-Auth-Token</c> apiKey security scheme (the explorer's
/// Authorize), and the 413 body of every operation as either the API's error body or the rate limiter's overLimit
/// fault (<c>anyOf</c>).
/// </summary>
internal sealed class ApiDocumentTransformer : IOpenApiDocumentTransformer
{
    /// <summary>The name of the security scheme.</summary>
    public const string TokenScheme = "X-Auth-Token";

    public async Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Tether management API",
            Version = "v1.0",
            Description = "The Rackspace Cloud Load Balancers v1.0 compatible API of Tether, and Tether's additions "
                + "(docs/api.md). Every call under /v1.0/{account} needs the X-Auth-Token header (`tether token create`); "
                + "errors are {\"message\",\"code\",\"details\"?} with validationErrors.messages for a 400.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal);
        document.Components.SecuritySchemes[TokenScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = TokenScheme,
            Description = "An API token of the path's account (data directory's admin-token file, or `tether token create`).",
        };

        var overLimit = await context.GetOrCreateSchemaAsync(typeof(OverLimitFault), null, cancellationToken);
        document.AddComponent(nameof(OverLimitFault), overLimit);
        var either = new OpenApiSchema
        {
            AnyOf = [new OpenApiSchemaReference(nameof(ApiErrorBody), document), new OpenApiSchemaReference(nameof(OverLimitFault), document)],
        };
        foreach (var operation in document.Paths.Values.SelectMany(p => p.Operations?.Values.AsEnumerable() ?? []))
        {
            if (operation.Responses?.GetValueOrDefault("413") is OpenApiResponse { Content: { } content }
                && content.TryGetValue("application/json", out var media) && media is OpenApiMediaType concrete)
            {
                concrete.Schema = either;
            }
        }
    }
}

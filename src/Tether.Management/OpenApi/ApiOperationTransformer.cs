using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Tether.Management.OpenApi;

/// <summary>
/// Completes each operation from its <see cref="RouteDoc"/>: the query parameters the route reads by hand
/// (<see cref="QueryParameters"/>), the <c>X-Auth-Token</c> security requirement under <c>/v1.0</c>, and a
/// description of each error status.
/// </summary>
internal sealed class ApiOperationTransformer : IOpenApiOperationTransformer
{
    /// <summary>What each error status means in this API (docs/api.md "Errors").</summary>
    private static readonly Dictionary<string, string> ErrorMeanings = new(StringComparer.Ordinal)
    {
        ["400"] = "Bad request: malformed JSON, a body of the wrong shape, or a validation failure (validationErrors.messages names each field).",
        ["401"] = "No valid token: X-Auth-Token missing, unknown, or of another account than the path's.",
        ["403"] = "The token's role may not make this call (observer: GET only; creator: no DELETE).",
        ["404"] = "Not found: the load balancer (or node, item, mapping) does not exist in this account.",
        ["413"] = "Over a limit: the account's rate limit (overLimit fault, with Retry-After), or a size limit (body, nodes, items, mappings).",
        ["422"] = "The load balancer is immutable now (not ACTIVE), or the change conflicts with its state.",
        ["500"] = "The change could not be stored; nothing was changed.",
        ["503"] = "Cluster mode: the shared store is unavailable, configuration changes are refused (nothing was changed).",
    };

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var doc = context.Description.ActionDescriptor.EndpointMetadata.OfType<RouteDoc>().FirstOrDefault();
        if (doc is null)
        {
            return Task.CompletedTask;
        }

        foreach (var name in doc.Query ?? [])
        {
            var parameter = QueryParameters.All[name];
            var schema = new OpenApiSchema { Type = parameter.Type == "integer" ? JsonSchemaType.Integer : JsonSchemaType.String };
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name,
                In = ParameterLocation.Query,
                Description = parameter.Description,
                Schema = parameter.Repeats ? new OpenApiSchema { Type = JsonSchemaType.Array, Items = schema } : schema,
                Explode = true,
            });
        }

        if (context.Description.RelativePath?.StartsWith("v1.0/", StringComparison.Ordinal) == true)
        {
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(ApiDocumentTransformer.TokenScheme, context.Document)] = [],
            });
        }

        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (ErrorMeanings.TryGetValue(status, out var meaning) && response is OpenApiResponse concrete && doc.ErrorBody is null)
            {
                concrete.Description = meaning;
            }
        }

        return Task.CompletedTask;
    }
}

using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Tether.Management.OpenApi;

/// <summary>
/// Marks the objects of <c>OpenApi/Schemas</c> <c>additionalProperties: false</c>: the API writes exactly the fields
/// described (and refuses unknown request fields with a 400), so the contract test catches a field the description
/// lacks.
/// </summary>
internal sealed class StrictSchemaTransformer : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonTypeInfo.Kind == JsonTypeInfoKind.Object
            && context.JsonTypeInfo.Type.Namespace == typeof(Schemas.ApiErrorBody).Namespace)
        {
            schema.AdditionalPropertiesAllowed = false;
        }

        return Task.CompletedTask;
    }
}

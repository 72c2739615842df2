using System.Text.Json;
using Json.Schema;

namespace Tether.Management.Tests.OpenApi;

/// <summary>
/// The API's own OpenAPI document, read from <c>/openapi/v1.json</c>, as a validator of real answers: each response
/// schema becomes a JSON Schema 2020-12 document (JsonSchema.Net) whose <c>$defs</c> are the document's
/// <c>components/schemas</c>.
/// </summary>
internal sealed class OpenApiDocument(JsonNode document)
{
    private readonly Dictionary<string, JsonSchema> _schemas = [];

    public JsonNode Root => document;

    public HashSet<string> Checked { get; } = [];

    /// <summary>The operation at <paramref name="path"/> (as the document spells it, e.g.
    /// <c>/v1.0/{account}/loadbalancers/{id}</c>) and <paramref name="method"/>, or null.</summary>
    public JsonObject? Operation(string method, string path) =>
        document["paths"]?[path]?[method.ToLowerInvariant()] as JsonObject;

    /// <summary>Asserts that <paramref name="response"/> is one the document gives for the operation: its status is
    /// listed, and its body matches the listed schema (or is empty when none is listed).</summary>
    public void AssertMatches(string method, string relativePath, ApiResponse response)
    {
        var path = "/v1.0/{account}" + relativePath;
        var operation = Operation(method, path);
        Assert.True(operation is not null, $"{method} {path} is not in the document");
        var status = response.Status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var described = operation!["responses"]?[status];
        Assert.True(described is not null, $"{method} {path} answered {response} but the document lists no {status}");
        var schema = described!["content"]?["application/json"]?["schema"];
        if (schema is null)
        {
            Assert.True(response.Text.Length == 0, $"{method} {path} {status}: the document gives no body, the API sent {response.Text}");
        }
        else
        {
            Assert.True(response.Body is not null, $"{method} {path} {status}: the document gives a body, the API sent none");
            var key = method + " " + path + " " + status;
            if (!_schemas.TryGetValue(key, out var compiled))
            {
                compiled = Compile(schema);
                _schemas[key] = compiled;
            }

            using var instance = JsonDocument.Parse(response.Text);
            var result = compiled.Evaluate(instance.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            Assert.True(result.IsValid, $"{method} {path} {status} does not match the document: {Describe(result)}\nbody: {response.Text}");
        }

        Checked.Add($"{method} {path} {status}");
    }

    private JsonSchema Compile(JsonNode schema)
    {
        var root = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$defs"] = document["components"]?["schemas"]?.DeepClone(),
            ["allOf"] = new JsonArray(schema.DeepClone()),
        };
        var text = root.ToJsonString().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);
        return JsonSchema.FromText(text, new BuildOptions { SchemaRegistry = new SchemaRegistry() }, new Uri("https://tether.test/openapi/" + _schemas.Count));
    }

    private static string Describe(EvaluationResults result) =>
        string.Join("; ", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .Select(d => $"{d.InstanceLocation} ({d.EvaluationPath}): {string.Join(", ", d.Errors!.Values)}"));
}

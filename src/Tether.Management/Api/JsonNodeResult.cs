using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Tether.Management.Api;

/// <summary>Writes a <see cref="JsonNode"/> as the response body (no reflection), or an empty body when the node is
/// null.</summary>
internal sealed class JsonNodeResult(JsonNode? body, int statusCode) : IResult
{
    // A JSON API response, never embedded in HTML: quotes such as ' stay readable instead of \u0027.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public JsonNode? Body => body;

    public int StatusCode => statusCode;

    public static JsonNodeResult Ok(JsonNode body) => new(body, StatusCodes.Status200OK);

    public static JsonNodeResult Accepted(JsonNode? body = null) => new(body, StatusCodes.Status202Accepted);

    public static JsonNodeResult Error(ApiError error) => new(error.ToJson(), error.Code);

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = statusCode;
        if (body is null)
        {
            return;
        }

        response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(response.Body, WriterOptions);
        body.WriteTo(writer);
        await writer.FlushAsync(httpContext.RequestAborted);
    }
}

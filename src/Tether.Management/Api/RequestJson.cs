using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Tether.Management.Api;

/// <summary>Reads a request body as JSON (DESIGN.md section 5: bodies come with or without their root key).</summary>
internal static class RequestJson
{
    /// <summary>The largest body the API reads, in bytes.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    /// <summary>Parses the body. Errors: 400 when it is empty or not JSON, 413 when it exceeds
    /// <see cref="MaxBodyBytes"/>.</summary>
    public static async Task<Outcome<JsonElement>> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return new ApiError(413, $"The request body is larger than {MaxBodyBytes} bytes.");
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return new ApiError(413, $"The request body is larger than {MaxBodyBytes} bytes.");
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            return ApiError.BadRequest("A JSON request body is required.");
        }

        try
        {
            using var document = JsonDocument.Parse(buffer.ToArray(), new JsonDocumentOptions { MaxDepth = 32 });
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            return ApiError.BadRequest("The request body is not valid JSON.", ex.Message);
        }
    }

    /// <summary>
    /// Unwraps <c>{"rootKey": {...}}</c> to the inner object; any other object is returned as is (a body without its
    /// root key). Returns null (with the error) when the body is not an object.
    /// </summary>
    public static JsonElement? UnwrapObject(JsonElement body, string rootKey, out ApiError? error)
    {
        error = null;
        if (body.ValueKind != JsonValueKind.Object)
        {
            error = ApiError.BadRequest($"The request body must be a JSON object ({{\"{rootKey}\": {{...}}}} or {{...}}).");
            return null;
        }

        if (body.TryGetProperty(rootKey, out var inner))
        {
            if (inner.ValueKind == JsonValueKind.Object)
            {
                return inner;
            }

            error = ApiError.Validation($"{rootKey}: must be an object");
            return null;
        }

        return body;
    }
}

using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Tether.Management.Api;

/// <summary>Reads a request body as JSON (docs/api.md: bodies come with or without their root key).</summary>
internal static class RequestJson
{
    /// <summary>The largest body the API reads, in bytes.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    /// <summary>Parses the body. Errors: 400 when it is empty or not JSON (also: nested deeper than
    /// <see cref="MaxDepth"/>, a property name given twice in one object, a string or name that is not valid Unicode
    /// text), 413 when it exceeds <see cref="MaxBodyBytes"/>.</summary>
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
            using var document = JsonDocument.Parse(buffer.ToArray(), new JsonDocumentOptions { MaxDepth = MaxDepth, AllowDuplicateProperties = false });
            if (FindInvalidText(document.RootElement, "") is { } invalid)
            {
                return ApiError.BadRequest("The request body is not valid JSON.", invalid);
            }

            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            return ApiError.BadRequest("The request body is not valid JSON.", ex.Message);
        }
        catch (InvalidOperationException ex)
        {
            // The duplicate property check reads every name while parsing; an undecodable one throws here.
            return ApiError.BadRequest("The request body is not valid JSON.",
                $"a property name is not valid Unicode text (invalid UTF-8 or an unpaired surrogate such as \\ud800): {ex.Message}");
        }
    }

    /// <summary>The deepest nesting of arrays and objects a body may have; deeper is 400 (the parser's message).</summary>
    public const int MaxDepth = 32;

    /// <summary>
    /// The first string or property name that is not valid Unicode text, as <c>nodes[0].type: ...</c>: invalid UTF-8
    /// (RFC 8259 section 8.1: JSON text is UTF-8) or an escaped unpaired surrogate such as <c>\ud800</c> (RFC 8259
    /// section 8.2: its behaviour is unpredictable, so Tether refuses it). Null when every text is valid. The parser
    /// checks neither until a string is read, which is where a 500 came from (issue 11).
    /// </summary>
    internal static string? FindInvalidText(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return $"{(path.Length == 0 ? "the body" : path)}: a property name is not valid Unicode text (invalid UTF-8 or an unpaired surrogate such as \\ud800)";
                    }

                    if (FindInvalidText(property.Value, path.Length == 0 ? name : path + "." + name) is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FindInvalidText(item, $"{path}[{index++}]") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case JsonValueKind.String:
                try
                {
                    _ = element.GetString();
                    return null;
                }
                catch (InvalidOperationException)
                {
                    return $"{(path.Length == 0 ? "the body" : path)}: the string is not valid Unicode text (invalid UTF-8 or an unpaired surrogate such as \\ud800)";
                }

            default:
                return null;
        }
    }

    /// <summary>
    /// Unwraps <c>{"rootKey": {...}}</c> to the inner object; any other object is returned as is (a body without its
    /// root key). Returns null (with the error) when the body is not an object.
    /// </summary>
    public static JsonElement? UnwrapObject(JsonElement body, string rootKey, out ApiError? error) =>
        UnwrapObject(body, rootKey, null, out error);

    /// <summary>
    /// As <see cref="UnwrapObject(JsonElement, string, out ApiError?)"/>; with the root key present, every other field
    /// beside it is reported to <paramref name="issues"/> as unknown (issue 11: no field is dropped silently).
    /// </summary>
    public static JsonElement? UnwrapObject(JsonElement body, string rootKey, ReadIssues? issues, out ApiError? error)
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
                if (issues is not null)
                {
                    foreach (var sibling in body.EnumerateObject())
                    {
                        if (sibling.Name != rootKey)
                        {
                            issues.Add(sibling.Name, $"unknown field beside \"{rootKey}\" (give the fields inside \"{rootKey}\")");
                        }
                    }
                }

                return inner;
            }

            error = ApiError.Validation($"{rootKey}: must be an object");
            return null;
        }

        return body;
    }
}

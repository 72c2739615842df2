using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tether.Cli;

/// <summary>
/// A small client of Tether's public API (<c>/v1.0/{account}/...</c>, docs/api.md) over <see cref="HttpClient"/>:
/// sends <c>X-Auth-Token</c>, writes and reads JSON, and turns every answer that is not 2xx into an
/// <see cref="ApiException"/> carrying the API's error body as it came.
/// </summary>
internal sealed class ApiClient : IDisposable
{
    private readonly HttpClient _http;

    /// <param name="root">The API root, <c>http://HOST:PORT/</c>.</param>
    /// <param name="account">The account in every path.</param>
    /// <param name="token">The <c>X-Auth-Token</c>.</param>
    /// <param name="handler">The message handler, or null for a new one (tests pass none; the CLI makes one call
    /// after another).</param>
    public ApiClient(Uri root, int account, string token, HttpMessageHandler? handler = null)
    {
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.BaseAddress = new Uri(root, $"v1.0/{account}/");
        _http.Timeout = TimeSpan.FromSeconds(60);
        _http.DefaultRequestHeaders.Add("X-Auth-Token", token);
        Account = account;
    }

    public int Account { get; }

    /// <summary>GET <paramref name="path"/> (relative to <c>/v1.0/{account}/</c>); the answer's JSON.</summary>
    public Task<JsonNode?> GetAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, path, null, cancellationToken);

    /// <summary>Sends <paramref name="body"/> (or none) and returns the answer's JSON, or null when it has no body
    /// (202 to most changes).</summary>
    /// <exception cref="ApiException">The API answered with a status that is not 2xx.</exception>
    /// <exception cref="HttpRequestException">The API could not be reached.</exception>
    public async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new ApiException(response.StatusCode, text);
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            throw new ApiException(response.StatusCode, text, "the answer is not JSON; is --api a Tether management API?");
        }
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>An answer of the API that is not 2xx, with its body as it came (docs/api.md#errors: <c>message</c>,
/// <c>code</c>, <c>details</c>, <c>validationErrors.messages</c>; <c>overLimit</c> for a rate limit).</summary>
internal sealed class ApiException(HttpStatusCode status, string body, string? note = null)
    : Exception($"{(int)status} {note ?? body}")
{
    public HttpStatusCode Status { get; } = status;

    /// <summary>The answer's body, unchanged.</summary>
    public string Body { get; } = body;

    /// <summary>What the CLI adds (the answer was not JSON), or null.</summary>
    public string? Note { get; } = note;
}

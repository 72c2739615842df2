using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tether.Management.OpenApi;

namespace Tether.Management.Tests.OpenApi;

/// <summary>
/// The API description (<c>/openapi/v1.json</c>) against the API itself, over a real socket: every mapped route is
/// described, and real answers of a sequence of calls (successes and errors) match the document's schemas.
/// </summary>
public sealed class OpenApiContractTests : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _directory = new();
    private ApiHost _host = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _host = await ApiHost.StartAsync(_directory.Path, dataPlane: new RuntimeDataPlane());
        _http = new HttpClient { BaseAddress = _host.BaseAddress };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
        _directory.Dispose();
    }

    public void Dispose()
    {
        _http.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public async Task OpenApiDocument_WithoutToken_IsOpenApi31WithTokenScheme()
    {
        using var response = await _http.GetAsync(ApiDescriptionExtensions.DocumentPath);
        Assert.Equal(200, (int)response.StatusCode);
        var document = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.StartsWith("3.1", document["openapi"]!.GetValue<string>(), StringComparison.Ordinal);
        var scheme = document["components"]!["securitySchemes"]!["X-Auth-Token"]!;
        Assert.Equal("apiKey", scheme["type"]!.GetValue<string>());
        Assert.Equal("header", scheme["in"]!.GetValue<string>());
        Assert.Equal("X-Auth-Token", scheme["name"]!.GetValue<string>());
        var create = document["paths"]!["/v1.0/{account}/loadbalancers"]!["post"]!;
        Assert.NotNull(create["security"]);
        Assert.NotNull(create["requestBody"]!["content"]!["application/json"]!["schema"]);
        Assert.Null(document["paths"]!["/healthz"]!["get"]!["security"]);
    }

    [Fact]
    public async Task OpenApiDocument_EveryMappedRoute_IsDescribedWithResponses()
    {
        var document = await LoadAsync();
        var sources = _host.Services.GetRequiredService<EndpointDataSource>();
        var missing = new List<string>();
        var count = 0;
        foreach (var endpoint in sources.Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>()?.ExcludeFromDescription == true
                || endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods is not [var method])
            {
                continue;
            }

            count++;
            var path = System.Text.RegularExpressions.Regex.Replace(endpoint.RoutePattern.RawText!, "{([^:}]+)(:[^}]+)?}", "{$1}");
            var operation = document.Operation(method, path);
            if (operation?["responses"] is not JsonObject responses || responses.Count < 2 || operation["tags"] is null)
            {
                missing.Add($"{method} {path}");
            }
        }

        Assert.True(count > 70, $"only {count} routes found");
        Assert.Empty(missing);
        Assert.Empty(RouteDocs.All.Values.Where(d => d.Path != "/metrics"
            && document.Operation(d.Method, System.Text.RegularExpressions.Regex.Replace(
                (d.Path.StartsWith("/v1.0", StringComparison.Ordinal) || d.Path == "/healthz" ? "" : "/v1.0/{account}") + d.Path, "{([^:}]+)(:[^}]+)?}", "{$1}")) is null)
            .Select(d => $"{d.Method} {d.Path} is documented but not mapped"));
    }

    [Fact]
    public async Task RealResponses_OfASequence_MatchTheDocument()
    {
        var doc = await LoadAsync();
        var api = _host.NewAccount();
        var port = ApiHost.NextPort();
        async Task<ApiResponse> Check(string method, string template, Task<ApiResponse> call, int expected)
        {
            var response = await call;
            Assert.True(response.Status == expected, $"{method} {template}: expected {expected}, got {response}");
            doc.AssertMatches(method, template, response);
            return response;
        }

        // Catalogs and limits.
        foreach (var path in (string[])["/loadbalancers/protocols", "/loadbalancers/algorithms", "/loadbalancers/absolutelimits",
            "/loadbalancers/alloweddomains", "/limits"])
        {
            await Check("GET", path, api.GetAsync(path), 200);
        }

        // Create with nodes, persistence, monitor, access list, throttle, metadata; then read it every way.
        var created = await Check("POST", "/loadbalancers", api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", port,
            "\"sessionPersistence\":{\"persistenceType\":\"HTTP_COOKIE\"},\"healthMonitor\":{\"type\":\"CONNECT\",\"delay\":10,\"timeout\":5,\"attemptsBeforeDeactivation\":2},"
            + "\"accessList\":[{\"address\":\"10.1.0.0/16\",\"type\":\"DENY\"}],\"connectionThrottle\":{\"maxConnections\":50},\"metadata\":[{\"key\":\"team\",\"value\":\"web\"}]",
            """[{"address":"10.0.0.1","port":80,"condition":"ENABLED"},{"address":"10.0.0.2","port":80,"condition":"ENABLED","weight":3}]""")), 202);
        var id = created.Body!["loadBalancer"]!["id"]!.GetValue<int>();
        var lb = $"/loadbalancers/{id}";
        var nodeId = created.Body!["loadBalancer"]!["nodes"]![0]!["id"]!.GetValue<int>();
        var otherNode = created.Body!["loadBalancer"]!["nodes"]![1]!["id"]!.GetValue<int>();
        await Check("GET", "/loadbalancers/{id}", api.GetAsync(lb), 200);
        await Check("GET", "/loadbalancers", api.GetAsync("/loadbalancers"), 200);
        await Check("GET", "/loadbalancers", api.GetAsync("/loadbalancers?nodeaddress=10.0.0.1"), 200);
        await Check("GET", "/loadbalancers", api.GetAsync("/loadbalancers?limit=0"), 400);
        await Check("GET", "/loadbalancers/{id}", api.GetAsync("/loadbalancers/999999"), 404);
        await Check("GET", "/loadbalancers/{id}/virtualips", api.GetAsync(lb + "/virtualips"), 200);
        await Check("PUT", "/loadbalancers/{id}", api.PutAsync(lb, """{"loadBalancer":{"name":"renamed","algorithm":"ROUND_ROBIN"}}"""), 202);
        await Check("PUT", "/loadbalancers/{id}", api.PutAsync(lb, """{"loadBalancer":{"port":0,"bogus":1}}"""), 400);
        await Check("PUT", "/loadbalancers/{id}", api.PutAsync(lb, "{not json"), 400);

        // Nodes.
        await Check("GET", "/loadbalancers/{id}/nodes", api.GetAsync(lb + "/nodes"), 200);
        await Check("GET", "/loadbalancers/{id}/nodes/{nodeId}", api.GetAsync($"{lb}/nodes/{nodeId}"), 200);
        await Check("GET", "/loadbalancers/{id}/nodes/{nodeId}", api.GetAsync($"{lb}/nodes/999999"), 404);
        var added = await Check("POST", "/loadbalancers/{id}/nodes", api.PostAsync(lb + "/nodes",
            """{"nodes":[{"address":"10.0.0.3","port":8080,"condition":"ENABLED"}]}"""), 202);
        var addedId = added.Body!["nodes"]![0]!["id"]!.GetValue<int>();
        await Check("PUT", "/loadbalancers/{id}/nodes/{nodeId}", api.PutAsync($"{lb}/nodes/{otherNode}", """{"node":{"condition":"DRAINING","weight":5}}"""), 202);
        await Check("GET", "/loadbalancers/{id}/nodes/{nodeId}", api.GetAsync($"{lb}/nodes/{otherNode}"), 200);
        await Check("GET", "/loadbalancers/{id}/nodes", api.GetAsync(lb + "/nodes"), 200);
        await Check("PUT", "/loadbalancers/{id}/nodes/{nodeId}", api.PutAsync($"{lb}/nodes/{otherNode}", """{"node":{"condition":"SIDEWAYS"}}"""), 400);
        await Check("GET", "/loadbalancers/{id}/nodes/events", api.GetAsync(lb + "/nodes/events"), 200);
        await Check("GET", "/loadbalancers/{id}/nodes/{nodeId}/events", api.GetAsync($"{lb}/nodes/{nodeId}/events"), 200);
        await Check("DELETE", "/loadbalancers/{id}/nodes/{nodeId}", api.DeleteAsync($"{lb}/nodes/{addedId}"), 202);

        // Session persistence and its live views.
        await Check("GET", "/loadbalancers/{id}/sessionpersistence", api.GetAsync(lb + "/sessionpersistence"), 200);
        await Check("PUT", "/loadbalancers/{id}/sessionpersistence", api.PutAsync(lb + "/sessionpersistence",
            """{"sessionPersistence":{"persistenceType":"HTTP_COOKIE","persistenceTimeout":600,"cookieSameSite":"Lax"}}"""), 202);
        await Check("GET", "/loadbalancers/{id}/sessionpersistence", api.GetAsync(lb + "/sessionpersistence"), 200);
        await Check("PUT", "/loadbalancers/{id}/sessionpersistence", api.PutAsync(lb + "/sessionpersistence",
            """{"sessionPersistence":{"persistenceType":"NO_SUCH"}}"""), 400);
        await Check("GET", "/loadbalancers/{id}/sessionpersistence/sessions", api.GetAsync(lb + "/sessionpersistence/sessions"), 200);
        await Check("GET", "/loadbalancers/{id}/sessionpersistence/lookup", api.GetAsync(lb + "/sessionpersistence/lookup?cookie=abc"), 200);
        await Check("POST", "/loadbalancers/{id}/sessionpersistence/sessions/move", api.PostAsync(lb + "/sessionpersistence/sessions/move",
            $$"""{"fromNodeId":{{otherNode}},"toNodeId":{{nodeId}}}"""), 200);
        await Check("POST", "/loadbalancers/{id}/sessionpersistence/sessions/move", api.PostAsync(lb + "/sessionpersistence/sessions/move",
            $$"""{"fromNodeId":{{nodeId}},"toNodeId":{{nodeId}}}"""), 400);
        await Check("DELETE", "/loadbalancers/{id}/sessionpersistence/sessions", api.DeleteAsync($"{lb}/sessionpersistence/sessions?nodeId={nodeId}"), 202);
        await Check("GET", "/loadbalancers/{id}/stats", api.GetAsync(lb + "/stats"), 200);
        await Check("DELETE", "/loadbalancers/{id}/sessionpersistence", api.DeleteAsync(lb + "/sessionpersistence"), 202);
        await Check("GET", "/loadbalancers/{id}/sessionpersistence", api.GetAsync(lb + "/sessionpersistence"), 200);
        await Check("DELETE", "/loadbalancers/{id}/sessionpersistence", api.DeleteAsync(lb + "/sessionpersistence"), 422);

        // Health monitor, access list, throttle, error page, logging, caching.
        await Check("GET", "/loadbalancers/{id}/healthmonitor", api.GetAsync(lb + "/healthmonitor"), 200);
        await Check("PUT", "/loadbalancers/{id}/healthmonitor", api.PutAsync(lb + "/healthmonitor",
            """{"healthMonitor":{"type":"HTTP","delay":10,"timeout":5,"attemptsBeforeDeactivation":3,"path":"/health","statusRegex":"^200$"}}"""), 202);
        await Check("GET", "/loadbalancers/{id}/healthmonitor", api.GetAsync(lb + "/healthmonitor"), 200);
        await Check("PUT", "/loadbalancers/{id}/healthmonitor", api.PutAsync(lb + "/healthmonitor", """{"healthMonitor":{"type":"HTTP","delay":0}}"""), 400);
        await Check("DELETE", "/loadbalancers/{id}/healthmonitor", api.DeleteAsync(lb + "/healthmonitor"), 202);
        await Check("GET", "/loadbalancers/{id}/healthmonitor", api.GetAsync(lb + "/healthmonitor"), 200);
        await Check("GET", "/loadbalancers/{id}/accesslist", api.GetAsync(lb + "/accesslist"), 200);
        await Check("POST", "/loadbalancers/{id}/accesslist", api.PostAsync(lb + "/accesslist", """{"accessList":[{"address":"192.0.2.1","type":"ALLOW"}]}"""), 202);
        var items = await Check("GET", "/loadbalancers/{id}/accesslist", api.GetAsync(lb + "/accesslist"), 200);
        var itemId = items.Body!["accessList"]![0]!["id"]!.GetValue<int>();
        await Check("DELETE", "/loadbalancers/{id}/accesslist/{itemId}", api.DeleteAsync($"{lb}/accesslist/{itemId}"), 202);
        await Check("DELETE", "/loadbalancers/{id}/accesslist/{itemId}", api.DeleteAsync($"{lb}/accesslist/{itemId}"), 404);
        await Check("DELETE", "/loadbalancers/{id}/accesslist", api.DeleteAsync(lb + "/accesslist"), 202);
        await Check("GET", "/loadbalancers/{id}/connectionthrottle", api.GetAsync(lb + "/connectionthrottle"), 200);
        await Check("PUT", "/loadbalancers/{id}/connectionthrottle", api.PutAsync(lb + "/connectionthrottle",
            """{"connectionThrottle":{"maxConnections":100,"maxConnectionRate":50,"rateInterval":60}}"""), 202);
        await Check("GET", "/loadbalancers/{id}/connectionthrottle", api.GetAsync(lb + "/connectionthrottle"), 200);
        await Check("DELETE", "/loadbalancers/{id}/connectionthrottle", api.DeleteAsync(lb + "/connectionthrottle"), 202);
        await Check("GET", "/loadbalancers/{id}/errorpage", api.GetAsync(lb + "/errorpage"), 200);
        await Check("PUT", "/loadbalancers/{id}/errorpage", api.PutAsync(lb + "/errorpage", """{"errorpage":{"content":"<html>down</html>"}}"""), 200);
        await Check("DELETE", "/loadbalancers/{id}/errorpage", api.DeleteAsync(lb + "/errorpage"), 200);
        await Check("GET", "/loadbalancers/{id}/connectionlogging", api.GetAsync(lb + "/connectionlogging"), 200);
        await Check("PUT", "/loadbalancers/{id}/connectionlogging", api.PutAsync(lb + "/connectionlogging", """{"connectionLogging":{"enabled":true}}"""), 202);
        await Check("GET", "/loadbalancers/{id}/contentcaching", api.GetAsync(lb + "/contentcaching"), 200);
        await Check("PUT", "/loadbalancers/{id}/contentcaching", api.PutAsync(lb + "/contentcaching", """{"contentCaching":{"enabled":"yes"}}"""), 400);
        await Check("GET", "/loadbalancers/{id}/ssltermination", api.GetAsync(lb + "/ssltermination"), 200);
        await Check("GET", "/loadbalancers/{id}/ssltermination/certificatemappings", api.GetAsync(lb + "/ssltermination/certificatemappings"), 404);

        // Metadata of the load balancer and of a node.
        foreach (var owner in (string[])["/loadbalancers/{id}", "/loadbalancers/{id}/nodes/{nodeId}"])
        {
            var path = owner.Replace("{id}", id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{nodeId}", nodeId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
            var metadata = await Check("POST", owner + "/metadata", api.PostAsync(path + "/metadata", """{"metadata":[{"key":"k1","value":"v1"},{"key":"k2","value":"v2"}]}"""), 200);
            var metaId = metadata.Body!["metadata"]![0]!["id"]!.GetValue<int>();
            await Check("GET", owner + "/metadata", api.GetAsync(path + "/metadata"), 200);
            await Check("GET", owner + "/metadata/{metaId}", api.GetAsync($"{path}/metadata/{metaId}"), 200);
            await Check("PUT", owner + "/metadata/{metaId}", api.PutAsync($"{path}/metadata/{metaId}", """{"meta":{"value":"blue"}}"""), 200);
            await Check("POST", owner + "/metadata", api.PostAsync(path + "/metadata", """{"metadata":[{"key":"k1","value":"again"}]}"""), 400);
            await Check("DELETE", owner + "/metadata/{metaId}", api.DeleteAsync($"{path}/metadata/{metaId}"), 200);
            await Check("GET", owner + "/metadata/{metaId}", api.GetAsync($"{path}/metadata/{metaId}"), 404);
        }

        // Usage and audit, then errors of the token check, and deletion.
        await Check("GET", "/loadbalancers/{id}/usage/current", api.GetAsync(lb + "/usage/current"), 200);
        await Check("GET", "/loadbalancers/{id}/usage", api.GetAsync(lb + "/usage?startTime=nonsense"), 400);
        await Check("GET", "/loadbalancers/usage", api.GetAsync("/loadbalancers/usage"), 200);
        await Check("GET", "/loadbalancers/billable", api.GetAsync("/loadbalancers/billable?startTime=2026-01-01T00:00:00Z&endTime=2026-01-02T00:00:00Z"), 200);
        await Check("GET", "/audit", api.GetAsync("/audit?limit=5"), 200);
        await Check("GET", "/loadbalancers/{id}", _host.Client(api.Account, "wrong-token").GetAsync(lb), 401);
        await Check("DELETE", "/loadbalancers", api.DeleteAsync("/loadbalancers"), 400);
        await Check("DELETE", "/loadbalancers/{id}", api.DeleteAsync(lb), 202);

        Assert.True(doc.Checked.Count >= 70, $"only {doc.Checked.Count} operation answers checked");
    }

    [Fact]
    public async Task AssertMatches_UndocumentedFieldOrWrongType_Fails()
    {
        var doc = await LoadAsync();
        const string Good = """{"sessionPersistence":{"persistenceType":"HTTP_COOKIE","persistenceTimeout":600}}""";
        doc.AssertMatches("GET", "/loadbalancers/{id}/sessionpersistence", new ApiResponse(200, JsonNode.Parse(Good), Good));
        foreach (var bad in (string[])["""{"sessionPersistence":{"persistenceType":"HTTP_COOKIE","surprise":1}}""",
            """{"sessionPersistence":{"persistenceTimeout":"600"}}""", """{"persistenceType":"HTTP_COOKIE"}"""])
        {
            Assert.ThrowsAny<Xunit.Sdk.XunitException>(() =>
                doc.AssertMatches("GET", "/loadbalancers/{id}/sessionpersistence", new ApiResponse(200, JsonNode.Parse(bad), bad)));
        }

        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() =>
            doc.AssertMatches("GET", "/loadbalancers/{id}/sessionpersistence", new ApiResponse(418, null, "")));
    }

    [Fact]
    public async Task Explorer_WithoutToken_IsServedFromTetherWithScopedPolicy()
    {
        using var page = await _http.GetAsync(ApiDescriptionExtensions.ExplorerPath + "/");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(200, (int)page.StatusCode);
        Assert.Equal(ApiDescriptionExtensions.ExplorerContentSecurityPolicy, page.Headers.GetValues("Content-Security-Policy").Single());

        // Every script and stylesheet the page names is served by Tether itself (no CDN): it works offline.
        var sources = System.Text.RegularExpressions.Regex.Matches(html, "(?:src|href)=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(sources);
        Assert.DoesNotContain(sources, s => s.StartsWith("http", StringComparison.OrdinalIgnoreCase) || s.StartsWith("//", StringComparison.Ordinal));
        foreach (var source in sources.Where(s => s.EndsWith(".js", StringComparison.Ordinal)))
        {
            using var asset = await _http.GetAsync(new Uri(page.RequestMessage!.RequestUri!, source));
            Assert.Equal(200, (int)asset.StatusCode);
            Assert.True((await asset.Content.ReadAsByteArrayAsync()).Length > 1000, source);
        }

        Assert.Contains("\"url\":\"openapi/v1.json\"", html, StringComparison.Ordinal);

        // The policy is the explorer's only: the API and the document carry none.
        using var document = await _http.GetAsync(ApiDescriptionExtensions.DocumentPath);
        Assert.False(document.Headers.Contains("Content-Security-Policy"));
    }

    private async Task<OpenApiDocument> LoadAsync()
    {
        var text = await _http.GetStringAsync(ApiDescriptionExtensions.DocumentPath);
        return new OpenApiDocument(JsonNode.Parse(text)!);
    }
}

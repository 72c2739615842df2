using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Tether.FunctionalTests.Infrastructure;

/// <summary>Calls of the management API shared by <see cref="TetherInstance"/> (in-process host) and
/// <see cref="TetherProcess"/> (a real <c>tether serve</c>): the client has the base address
/// <c>http://HOST:PORT/v1.0/1/</c> and the <c>X-Auth-Token</c> header.</summary>
public static class TetherApi
{
    /// <summary>Creates a load balancer (SERVICENET virtual IP) over nodes on 127.0.0.1 at <paramref name="nodePorts"/>
    /// and asserts 202; a port taken between the free-port check and the bind is replaced, up to 5 times.</summary>
    /// <returns>The load balancer id and its port.</returns>
    public static async Task<(int Id, int Port)> CreateLoadBalancerAsync(HttpClient api, string algorithm, IEnumerable<int> nodePorts, string? persistenceJson = null, string protocol = "HTTP", int? port = null, string? extra = null)
    {
        var chosen = port is null;
        var nodes = string.Join(',', nodePorts.Select(p => $$"""{"address":"127.0.0.1","port":{{p}},"condition":"ENABLED"}"""));
        var persistence = persistenceJson is null ? "" : $$""","sessionPersistence":{{persistenceJson}}""";
        HttpResponseMessage response;
        string text;
        for (var attempt = 1; ; attempt++)
        {
            port = chosen ? FreePort.Next() : port;
            var body = $$$"""{"loadBalancer":{"name":"lb","protocol":"{{{protocol}}}","port":{{{port}}},"algorithm":"{{{algorithm}}}","virtualIps":[{"type":"SERVICENET"}],"nodes":[{{{nodes}}}]{{{persistence}}}{{{extra ?? ""}}}}}""";
            response = await api.PostAsync("loadbalancers", new StringContent(body, Encoding.UTF8, "application/json"));
            text = await response.Content.ReadAsStringAsync();
            // A free port found by FreePort can be taken a moment later by another test's outgoing connection (its
            // ephemeral local port): choose another one rather than fail.
            if (!chosen || attempt == 5 || response.StatusCode != HttpStatusCode.BadRequest || !text.Contains("address already in use", StringComparison.Ordinal))
            {
                break;
            }
        }

        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"create failed: {(int)response.StatusCode} {text}");
        var id = JsonNode.Parse(text)!["loadBalancer"]!["id"]!.GetValue<int>();
        return (id, port!.Value);
    }

    public static async Task<JsonNode> GetJsonAsync(HttpClient api, string path)
    {
        var response = await api.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    public static async Task<HttpResponseMessage> SendJsonAsync(HttpClient api, HttpMethod method, string path, string? json)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return await api.SendAsync(request);
    }
}

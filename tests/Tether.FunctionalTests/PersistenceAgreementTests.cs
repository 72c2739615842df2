using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Tether.FunctionalTests.Infrastructure;
using Tether.Proxy;

namespace Tether.FunctionalTests;

/// <summary>
/// Issue 13: the persistence API's lookup (<c>GET .../sessionpersistence/lookup</c>) runs the request's own decision,
/// read-only, so it must agree with real requests. For every type, 200 clients (each its own source address on
/// 127.0.0.0/8 for SOURCE_IP) ask the lookup and then send the request, on the fast path and on the Kestrel path: a
/// lookup that names a node ("persisted", "hashed") is where the request lands; "balanced" means the request was not
/// persisted; "rejected" is a 502. Then a node is disabled and every client asks and sends again.
/// </summary>
public sealed class PersistenceAgreementTests : IAsyncLifetime
{
    private const int ClientCount = 200;
    private DemoBackendInstance[] _backends = null!;

    public async Task InitializeAsync() =>
        _backends = [await DemoBackendInstance.StartAsync("b1"), await DemoBackendInstance.StartAsync("b2"), await DemoBackendInstance.StartAsync("b3")];

    public async Task DisposeAsync()
    {
        foreach (var b in _backends)
        {
            await b.DisposeAsync();
        }
    }

    public static TheoryData<string, bool> Types() => new()
    {
        { """{"persistenceType":"HTTP_COOKIE"}""", true },
        { """{"persistenceType":"HTTP_COOKIE"}""", false },
        { """{"persistenceType":"HTTP_COOKIE","disableFallback":true}""", true },
        { """{"persistenceType":"APP_COOKIE","cookieName":"SESSIONID"}""", true },
        { """{"persistenceType":"APP_COOKIE","cookieName":"SESSIONID"}""", false },
        { """{"persistenceType":"SOURCE_IP"}""", true },
        { """{"persistenceType":"SOURCE_IP"}""", false },
        { """{"persistenceType":"SOURCE_IP","disableFallback":true}""", false },
        { """{"persistenceType":"HEADER","headerName":"X-Session-Id"}""", true },
        { """{"persistenceType":"HEADER","headerName":"X-Session-Id"}""", false },
        { """{"persistenceType":"HEADER","headerName":"X-Session-Id","disableFallback":true}""", true },
    };

    [Theory]
    [MemberData(nameof(Types))]
    public async Task Lookup_ManyClients_AgreesWithRealRequests(string persistence, bool fastPath)
    {
        await using var tether = await TetherInstance.StartAsync(proxyOptions: new ProxyOptions { Http1FastPath = fastPath, ShutdownTimeoutSeconds = 5 });
        var (id, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends.Select(b => b.Port), persistence);
        var settings = JsonNode.Parse(persistence)!;
        var agreement = new Agreement(tether, id, port, await NodeNamesAsync(tether, id), settings["persistenceType"]!.GetValue<string>(),
            settings["headerName"]?.GetValue<string>());
        var clients = Enumerable.Range(0, ClientCount).Select(i => new Client(i)).ToArray();

        // Round 1: new clients (balanced or hashed), then round 2: the same clients, now pinned.
        foreach (var client in clients)
        {
            await agreement.CheckAsync(client);
        }

        foreach (var client in clients)
        {
            await agreement.CheckAsync(client);
        }

        Assert.True(agreement.Persisted >= ClientCount, $"{persistence}: only {agreement.Persisted} persisted answers in round 2");

        // Round 3: b1 disabled: its clients fall back (or are refused without fallback); the others stay.
        var b1 = agreement.NodeIdOf("b1");
        Assert.Equal(HttpStatusCode.Accepted, (await tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/nodes/{b1}", """{"node":{"condition":"DISABLED"}}""")).StatusCode);
        foreach (var client in clients)
        {
            await agreement.CheckAsync(client);
        }

        Assert.True(agreement.Checked == 3 * ClientCount, $"checked {agreement.Checked}");
        Assert.True(agreement.Disagreements.Count == 0, $"{persistence} fastPath={fastPath}: {agreement.Disagreements.Count} disagreements, first: "
            + string.Join(" || ", agreement.Disagreements.Take(5)));
    }

    internal static async Task<Dictionary<int, string>> NodeNamesAsync(TetherInstance tether, int id, IEnumerable<(string Name, int Port)> backends)
    {
        var byPort = backends.ToDictionary(b => b.Port, b => b.Name);
        var nodes = await tether.GetJsonAsync($"loadbalancers/{id}/nodes");
        return nodes["nodes"]!.AsArray().ToDictionary(n => n!["id"]!.GetValue<int>(), n => byPort[n!["port"]!.GetValue<int>()]);
    }

    private Task<Dictionary<int, string>> NodeNamesAsync(TetherInstance tether, int id) =>
        NodeNamesAsync(tether, id, _backends.Select(b => (b.Name, b.Port)));

    /// <summary>One client: its source address, and what it holds (the persistence cookie or the application
    /// session).</summary>
    internal sealed class Client(int index)
    {
        public int Index { get; } = index;

        /// <summary>127.0.{1 + i / 250}.{1 + i % 250}: a source address of its own on the loopback network.</summary>
        public IPAddress Address { get; } = new([127, 0, (byte)(1 + index / 250), (byte)(1 + index % 250)]);

        public string? Cookie { get; set; }
    }

    /// <summary>Asks the lookup, sends the request, compares.</summary>
    internal sealed class Agreement(TetherInstance tether, int id, int port, Dictionary<int, string> nodeNames, string type, string? headerName = null)
    {
        public List<string> Disagreements { get; } = [];

        public int Checked { get; private set; }

        public int Persisted { get; private set; }

        public int NodeIdOf(string name) => nodeNames.Single(n => n.Value == name).Key;

        public async Task CheckAsync(Client client)
        {
            var lookup = (await tether.GetJsonAsync($"loadbalancers/{id}/sessionpersistence/lookup?{Query(client)}"))["lookup"]!;
            var reason = lookup["reason"]!.GetValue<string>();
            var named = lookup["nodeId"] is { } n ? nodeNames[n.GetValue<int>()] : null;
            var response = await SendAsync(client);
            Checked++;
            Persisted += reason == "persisted" ? 1 : 0;
            var served = response.Headers.TryGetValue("x-backend", out var backend) ? backend : null;
            var ok = reason switch
            {
                "persisted" or "hashed" => response.Status == 200 && served == named,
                "rejected" => response.Status == 502,
                "balanced" => response.Status == 200 && named is null,
                _ => false,
            };
            if (!ok)
            {
                Disagreements.Add($"client {client.Index} ({Query(client)}): lookup {reason} {named}, request {response.Status} from {served}");
            }

            Remember(client, response);
        }

        private string Query(Client client) => type switch
        {
            "SOURCE_IP" => $"address={client.Address}",
            "HEADER" => $"header=session-{client.Index}",
            // A client without a cookie yet asks with one no node ever set.
            _ => $"cookie={Uri.EscapeDataString(client.Cookie ?? "none-" + client.Index)}",
        };

        private void Remember(Client client, Response response)
        {
            var name = type == "HTTP_COOKIE" ? $"tether-{id}" : "SESSIONID";
            foreach (var setCookie in response.SetCookies)
            {
                if (setCookie.StartsWith(name + "=", StringComparison.Ordinal))
                {
                    client.Cookie = setCookie[(name.Length + 1)..].Split(';')[0];
                }
            }
        }

        private async Task<Response> SendAsync(Client client)
        {
            var extra = new StringBuilder();
            if (type == "HEADER")
            {
                extra.Append(headerName).Append(": session-").Append(client.Index).Append("\r\n");
            }
            else if (client.Cookie is { } cookie && type != "SOURCE_IP")
            {
                extra.Append("Cookie: ").Append(type == "HTTP_COOKIE" ? $"tether-{id}" : "SESSIONID").Append('=').Append(cookie).Append("\r\n");
            }

            // APP_COOKIE: a client without a session logs in (the node sets SESSIONID).
            var path = type == "APP_COOKIE" && client.Cookie is null ? $"/login?user=u{client.Index}" : "/";
            return await Response.GetAsync(client.Address, port, $"GET {path} HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n{extra}\r\n");
        }
    }

    /// <summary>One HTTP/1.1 exchange on a connection from <c>address</c> (Connection: close, so the answer ends
    /// with the connection).</summary>
    internal sealed record Response(int Status, Dictionary<string, string> Headers, List<string> SetCookies)
    {
        public static async Task<Response> GetAsync(IPAddress address, int port, string request, TimeSpan? wait = null)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(address, 0));
            using var timeout = new CancellationTokenSource(wait ?? TimeSpan.FromSeconds(10));
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
            await socket.SendAsync(Encoding.Latin1.GetBytes(request), SocketFlags.None, timeout.Token);
            var received = new MemoryStream();
            var buffer = new byte[8192];
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }

            var text = Encoding.Latin1.GetString(received.ToArray());
            var head = text[..Math.Max(0, text.IndexOf("\r\n\r\n", StringComparison.Ordinal))].Split("\r\n");
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var setCookies = new List<string>();
            foreach (var line in head.Skip(1))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                var name = line[..colon];
                var value = line[(colon + 1)..].Trim();
                if (name.Equals("Set-Cookie", StringComparison.OrdinalIgnoreCase))
                {
                    setCookies.Add(value);
                }
                else
                {
                    headers[name] = value;
                }
            }

            return new Response(int.Parse(head[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), headers, setCookies);
        }
    }
}

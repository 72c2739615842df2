using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Tether.Core.LoadBalancing;
using Tether.Core.Runtime;
using Tether.Proxy;

namespace Tether.FunctionalTests.Infrastructure;

/// <summary>Helpers to create load balancers of any protocol over node ports, and to look at their runtime.</summary>
public static class Layer4
{
    /// <summary>Creates a load balancer on 127.0.0.1 (a new SERVICENET virtual IP, or <paramref name="virtualIpId"/>).</summary>
    /// <param name="tether">The instance.</param>
    /// <param name="protocol">The protocol name, for example <c>TCP</c> or <c>UDP</c>.</param>
    /// <param name="algorithm">The algorithm name.</param>
    /// <param name="nodes">Node ports and weights on 127.0.0.1.</param>
    /// <param name="persistenceJson">The sessionPersistence object, or null.</param>
    /// <param name="extra">More fields, starting with a comma.</param>
    /// <param name="port">The port, or null for a free one.</param>
    /// <param name="virtualIpId">A virtual IP to share, or null for a new one.</param>
    /// <returns>The id and port.</returns>
    public static async Task<(int Id, int Port)> CreateAsync(this TetherInstance tether, string protocol, string algorithm,
        IEnumerable<(int Port, int Weight)> nodes, string? persistenceJson = null, string? extra = null, int? port = null,
        int? virtualIpId = null)
    {
        port ??= protocol.Contains("UDP", StringComparison.Ordinal) ? FreeUdpPort() : FreePort.Next();
        var nodeJson = string.Join(',', nodes.Select(n => $$"""{"address":"127.0.0.1","port":{{n.Port}},"condition":"ENABLED","weight":{{n.Weight}}}"""));
        var vip = virtualIpId is { } vipId ? $$"""{"id":{{vipId}}}""" : """{"type":"SERVICENET"}""";
        var persistence = persistenceJson is null ? "" : $$""","sessionPersistence":{{persistenceJson}}""";
        var body = $$$"""{"loadBalancer":{"name":"l4","protocol":"{{{protocol}}}","port":{{{port}}},"algorithm":"{{{algorithm}}}","virtualIps":[{{{vip}}}],"nodes":[{{{nodeJson}}}]{{{persistence}}}{{{extra ?? ""}}}}}""";
        var response = await tether.Api.PostAsync("loadbalancers", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"create failed: {(int)response.StatusCode} {text}");
        return (JsonNode.Parse(text)!["loadBalancer"]!["id"]!.GetValue<int>(), port.Value);
    }

    /// <summary>A port that was free a moment ago on 127.0.0.1 for both TCP and UDP.</summary>
    public static int FreeUdpPort()
    {
        while (true)
        {
            var port = FreePort.Next();
            try
            {
                using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork,
                    System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
                socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (System.Net.Sockets.SocketException)
            {
            }
        }
    }

    /// <summary>Nodes of weight 1 on <paramref name="ports"/>.</summary>
    public static IEnumerable<(int Port, int Weight)> Nodes(params int[] ports) => ports.Select(p => (p, 1));

    /// <summary>The runtime of a load balancer (node counters, stick table).</summary>
    public static LoadBalancerRuntime Runtime(this TetherInstance tether, int id) =>
        tether.Services.GetRequiredService<DataPlane>().FindRuntime(id) ?? throw new InvalidOperationException($"no runtime for {id}");

    /// <summary>The live node listening on 127.0.0.1:<paramref name="port"/>.</summary>
    public static NodeState Node(this TetherInstance tether, int id, int port) =>
        tether.Runtime(id).Snapshot.Nodes.Single(n => n.EndPoint.Port == port);

    /// <summary>Waits until <paramref name="condition"/> holds (polling every 20 ms), or fails after
    /// <paramref name="timeoutMs"/>.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what, int timeoutMs = 5000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for: {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>The virtual IP id of load balancer <paramref name="id"/>.</summary>
    public static async Task<int> VirtualIpIdAsync(this TetherInstance tether, int id) =>
        (await tether.GetJsonAsync($"loadbalancers/{id}"))["loadBalancer"]!["virtualIps"]![0]!["id"]!.GetValue<int>();
}

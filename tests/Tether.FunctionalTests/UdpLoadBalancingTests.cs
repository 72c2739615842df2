using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests;

/// <summary>Layer 4 UDP load balancing over real sockets: flows per client address and port, replies from the
/// virtual IP, SOURCE_IP persistence, flow expiry, passive health, bind failures and TCP and UDP on one port.</summary>
public sealed class UdpLoadBalancingTests(TetherFixture fixture) : IClassFixture<TetherFixture>, IAsyncLifetime
{
    private readonly TetherInstance _tether = fixture.Tether;
    private UdpEchoBackend[] _backends = null!;

    public Task InitializeAsync()
    {
        _backends = [UdpEchoBackend.Start("u1"), UdpEchoBackend.Start("u2")];
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var b in _backends)
        {
            await b.DisposeAsync();
        }
    }

    [Fact]
    public async Task Request_ThroughTether_ReplyComesBackFromTheVirtualIp()
    {
        var (_, port) = await _tether.CreateAsync("UDP", "ROUND_ROBIN", Layer4.Nodes(_backends[0].Port));
        // A connected UDP socket only takes datagrams from the address and port it is connected to: 127.0.0.1:port.
        using var client = new UdpTestClient(port);

        var reply = await client.RequestAsync("hello");

        Assert.Equal("u1", reply.Backend);
        Assert.Equal("hello", reply.Payload);
    }

    [Fact]
    public async Task Flow_OneClientPort_StaysOnOneNodeWhileNewFlowsAreBalanced()
    {
        var (id, port) = await _tether.CreateAsync("UDP_STREAM", "ROUND_ROBIN", Layer4.Nodes(_backends[0].Port, _backends[1].Port));
        using var a = new UdpTestClient(port);
        using var b = new UdpTestClient(port);

        var first = await a.RequestAsync("a0");
        for (var i = 1; i < 5; i++)
        {
            var reply = await a.RequestAsync($"a{i}");
            Assert.Equal(first.Backend, reply.Backend);
            Assert.Equal(first.FlowPort, reply.FlowPort);
        }

        var other = await b.RequestAsync("b0");

        Assert.NotEqual(first.Backend, other.Backend);
        Assert.Equal(1, _tether.Node(id, _backends[0].Port).Counters.Active);
        Assert.Equal(1, _tether.Node(id, _backends[1].Port).Counters.Active);
    }

    [Fact]
    public async Task SourceIp_ClientsOfManyAddresses_EachAddressStaysOnOneNode()
    {
        var (_, port) = await _tether.CreateAsync("DNS_UDP", "ROUND_ROBIN", Layer4.Nodes(_backends[0].Port, _backends[1].Port),
            """{"persistenceType":"SOURCE_IP"}""");
        var seen = new HashSet<string>();

        for (var x = 2; x <= 41; x++)
        {
            using var first = new UdpTestClient(port, $"127.0.0.{x}");
            using var second = new UdpTestClient(port, $"127.0.0.{x}");
            var one = await first.RequestAsync("q1");
            var two = await second.RequestAsync("q2");

            Assert.Equal(one.Backend, two.Backend);
            Assert.NotEqual(one.FlowPort, two.FlowPort);
            seen.Add(one.Backend);
        }

        Assert.Equal(["u1", "u2"], seen.Order());
    }

    [Fact]
    public async Task FlowExpiry_IdleForTheTimeout_ClosesTheFlowAndKeepsThePersistedNode()
    {
        var (id, port) = await _tether.CreateAsync("UDP", "ROUND_ROBIN", Layer4.Nodes(_backends[0].Port, _backends[1].Port),
            """{"persistenceType":"SOURCE_IP"}""", extra: ""","timeout":1""");
        using var client = new UdpTestClient(port, "127.0.0.9");
        var before = await client.RequestAsync("one");
        var node = _tether.Node(id, before.Backend == "u1" ? _backends[0].Port : _backends[1].Port);
        Assert.Equal(1, node.Counters.Active);
        var idle = Stopwatch.StartNew();

        await Layer4.EventuallyAsync(() => node.Counters.Active == 0, "the flow expired");
        Assert.InRange(idle.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(3));
        var after = await client.RequestAsync("two");

        Assert.Equal(before.Backend, after.Backend);
        Assert.NotEqual(before.FlowPort, after.FlowPort);
        Assert.Equal(1, node.Counters.Active);
    }

    [Fact]
    public async Task DnsUdp_EveryQueryAnswered_EndsTheFlowBeforeTheTimeout()
    {
        var (id, port) = await _tether.CreateAsync("DNS_UDP", "ROUND_ROBIN", Layer4.Nodes(_backends[0].Port),
            """{"persistenceType":"SOURCE_IP"}""");
        var node = _tether.Node(id, _backends[0].Port);
        using var client = new UdpTestClient(port);

        var first = await client.RequestAsync("query 1");
        await Layer4.EventuallyAsync(() => node.Counters.Active == 0, "the answered flow ended", timeoutMs: 2000);
        var second = await client.RequestAsync("query 2");

        Assert.Equal("u1", second.Backend);
        Assert.NotEqual(first.FlowPort, second.FlowPort);
    }

    [Fact]
    public async Task RefusedNode_IsHeldOutAndTheClientsRetryGoesToAnotherNode()
    {
        var dead = UdpEchoBackend.DeadPort();
        var (id, port) = await _tether.CreateAsync("UDP", "ROUND_ROBIN", Layer4.Nodes(dead, _backends[0].Port));

        for (var i = 0; i < 4; i++)
        {
            using var client = new UdpTestClient(port);
            Assert.Equal("u1", (await client.RequestAsync($"r{i}")).Backend);
        }

        var deadNode = _tether.Node(id, dead);
        Assert.True(deadNode.Counters.Failures >= 1);
        Assert.Equal(0, deadNode.Counters.Active);
    }

    [Fact]
    public async Task Create_UdpPortInUse_Answers400AndCreatesNothing()
    {
        using var blocker = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        blocker.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var taken = ((IPEndPoint)blocker.LocalEndPoint!).Port;
        var before = (await _tether.GetJsonAsync("loadbalancers"))["loadBalancers"]!.AsArray().Count;

        var create = await _tether.SendJsonAsync(HttpMethod.Post, "loadbalancers",
            $$$"""{"loadBalancer":{"name":"x","protocol":"UDP","port":{{{taken}}},"virtualIps":[{"type":"SERVICENET"}],"nodes":[{"address":"127.0.0.1","port":{{{_backends[0].Port}}}}]}}""");

        Assert.Equal(HttpStatusCode.BadRequest, create.StatusCode);
        Assert.Contains("address already in use", await create.Content.ReadAsStringAsync());
        Assert.Equal(before, (await _tether.GetJsonAsync("loadbalancers"))["loadBalancers"]!.AsArray().Count);
    }

    [Fact]
    public async Task DnsTcpAndDnsUdp_OnOnePort_BothServe()
    {
        await using var tcp = TcpEchoBackend.Start("tcp-node");
        var (tcpId, port) = await _tether.CreateAsync("DNS_TCP", "RANDOM", Layer4.Nodes(tcp.Port));
        await _tether.CreateAsync("DNS_UDP", "RANDOM", Layer4.Nodes(_backends[0].Port), port: port,
            virtualIpId: await _tether.VirtualIpIdAsync(tcpId));

        using var udp = new UdpTestClient(port);
        Assert.Equal("u1", (await udp.RequestAsync("dns")).Backend);
        Assert.Equal("tcp-node", await TcpTestClient.ReachAsync(port));
    }

    [Fact]
    public async Task ProtocolChange_TcpToUdpOnTheSamePort_ServesUdpAndReleasesTcp()
    {
        await using var tcp = TcpEchoBackend.Start("tcp-node");
        await using var udpNode = UdpEchoBackend.Start("udp-node", tcp.Port);
        var (id, port) = await _tether.CreateAsync("TCP", "RANDOM", Layer4.Nodes(tcp.Port));
        Assert.Equal("tcp-node", await TcpTestClient.ReachAsync(port));

        var update = await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}", """{"loadBalancer":{"protocol":"UDP"}}""");

        Assert.Equal(HttpStatusCode.Accepted, update.StatusCode);
        using var client = new UdpTestClient(port);
        Assert.Equal("udp-node", (await client.RequestAsync("now udp")).Backend);
        await Layer4.EventuallyAsync(() => IsRefused(port), "the TCP port is released");
    }

    private static bool IsRefused(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(IPAddress.Loopback, port);
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }
}

using System.Net;
using System.Net.Sockets;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Cluster;

/// <summary>The <see cref="TetherProcess"/> fixture the cluster tests stand on (issue 14): real <c>tether serve</c>
/// processes side by side on 127.0.0.2 and 127.0.0.3, one killed with SIGKILL while the other serves on.</summary>
public sealed class TetherProcessTests
{
    [Fact]
    public async Task StartAsync_TwoLoopbackAddresses_EachServesItsOwnLoadBalancerOnTheSamePort()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        await using var a = await TetherProcess.StartAsync("127.0.0.2");
        await using var b = await TetherProcess.StartAsync("127.0.0.3");

        var (_, port) = await a.CreateLoadBalancerAsync("ROUND_ROBIN", [b1]);
        await b.CreateLoadBalancerAsync("ROUND_ROBIN", [b2], port: port);

        Assert.StartsWith("http://127.0.0.2:", a.Api.BaseAddress!.ToString(), StringComparison.Ordinal);
        using var throughA = a.Client(port);
        using var throughB = b.Client(port);
        Assert.Equal("b1", await throughA.GetStringAsync("/"));
        Assert.Equal("b2", await throughB.GetStringAsync("/"));
    }

    [Fact]
    public async Task Kill_OneOfTwo_ItsListenersRefuseAndTheOtherServesOn()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var a = await TetherProcess.StartAsync("127.0.0.2");
        await using var b = await TetherProcess.StartAsync("127.0.0.3");
        var (_, port) = await a.CreateLoadBalancerAsync("ROUND_ROBIN", [b1]);
        await b.CreateLoadBalancerAsync("ROUND_ROBIN", [b1], port: port);

        a.Kill();

        Assert.True(a.HasExited);
        Assert.Equal(137, a.ExitCode);
        foreach (var refusedPort in new[] { port, a.ApiPort })
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            var refused = await Assert.ThrowsAsync<SocketException>(() => socket.ConnectAsync(new IPEndPoint(IPAddress.Parse("127.0.0.2"), refusedPort)));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }

        using var throughB = b.Client(port);
        Assert.Equal("b1", await throughB.GetStringAsync("/"));
        Assert.Equal(HttpStatusCode.OK, (await b.Api.GetAsync("loadbalancers")).StatusCode);
    }

    [Fact]
    public async Task StartAsync_ArgumentServeRefuses_ThrowsWithExitCodeAndItsMessage()
    {
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => TetherProcess.StartAsync("127.0.0.2", ["--no-such-option", "x"]));

        Assert.Contains("exited", refused.Message, StringComparison.Ordinal);
        Assert.Contains("--no-such-option", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_TokenGiven_ApiSendsItInsteadOfTheAdminTokenFile()
    {
        await using var a = await TetherProcess.StartAsync("127.0.0.2");
        await using var b = await TetherProcess.StartAsync("127.0.0.3", token: a.Token);

        Assert.Equal(a.Token, b.Token);
        Assert.Equal(HttpStatusCode.OK, (await a.Api.GetAsync("loadbalancers")).StatusCode);
        // two standalone instances: b does not know a's token (in cluster mode the token is shared through Redis)
        Assert.Equal(HttpStatusCode.Unauthorized, (await b.Api.GetAsync("loadbalancers")).StatusCode);
    }
}

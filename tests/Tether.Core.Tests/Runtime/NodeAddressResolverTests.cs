using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.Runtime;

/// <summary>Node addresses by host name: <see cref="NodeAddressResolver"/> and the runtime's resolved addresses (the
/// DNS seam <see cref="IHostNameResolver"/> stands in for the system resolver; no timers).</summary>
public sealed class NodeAddressResolverTests
{
    private readonly FakeTimeProvider _clock = Clock();
    private readonly FakeDns _dns = new();

    [Fact]
    public void Choose_SeveralAddresses_FirstIpv4ElseFirstIpv6()
    {
        Assert.Equal(IPAddress.Parse("192.0.2.2"), NodeAddressResolver.Choose([IPAddress.Parse("2001:db8::1"), IPAddress.Parse("192.0.2.2"), IPAddress.Parse("192.0.2.3")]));
        Assert.Equal(IPAddress.Parse("2001:db8::1"), NodeAddressResolver.Choose([IPAddress.Parse("2001:db8::1"), IPAddress.Parse("2001:db8::2")]));
        Assert.Null(NodeAddressResolver.Choose([]));
    }

    [Fact]
    public void NamesOf_MixedNodes_DistinctLowerCaseNamesOnly()
    {
        var config = LoadBalancer(Node(1), Node(2, address: "Web.Example.com"), Node(3, address: "web.example.com", port: 81));

        Assert.Equal(["web.example.com"], NodeAddressResolver.NamesOf(config));
    }

    [Fact]
    public async Task Apply_NameResolves_NodeTakesTrafficAtTheResolvedAddress()
    {
        _dns.Answers["app.example.com"] = [IPAddress.Parse("192.0.2.10")];
        var config = LoadBalancer(Node(1, address: "app.example.com"));
        var runtime = await CreateAsync(config);

        var node = runtime.Snapshot.FindNode(1)!;
        Assert.True(node.IsOnline);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 8443), node.EndPoint);
        Assert.Equal("http://192.0.2.10:8443/", node.DestinationPrefix);
        Assert.Equal(1, runtime.Select([], default).Node!.Id);
        Assert.Empty(runtime.NodeEvents.Snapshot());
    }

    [Fact]
    public async Task Apply_NameDoesNotResolve_NodeUnavailableWithEventAndNeverLoopback()
    {
        var config = LoadBalancer(Node(1, address: "gone.invalid"));
        var runtime = await CreateAsync(config);

        var node = runtime.Snapshot.FindNode(1)!;
        Assert.False(node.IsOnline);
        Assert.False(node.IsResolved);
        Assert.False(IPAddress.IsLoopback(node.EndPoint.Address));
        Assert.Null(runtime.Select([], default).Node);
        var e = Assert.Single(runtime.NodeEvents.Snapshot());
        Assert.Equal(NodeStatus.Offline, e.Status);
        Assert.Contains("gone.invalid", e.DetailedMessage, StringComparison.Ordinal);
        Assert.Contains("did not resolve", e.DetailedMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refresh_NameStopsThenStartsResolving_NodeLeavesAndComesBackWithEvents()
    {
        _dns.Answers["app.example.com"] = [IPAddress.Parse("192.0.2.10")];
        var runtime = await CreateAsync(LoadBalancer(Node(1), Node(2, address: "app.example.com")).WithAlgorithm(AlgorithmNames.RoundRobin));
        var resolver = new NodeAddressResolver(_dns, TimeSpan.FromSeconds(5));

        _dns.Answers.Remove("app.example.com");
        var down = await resolver.RefreshAsync(runtime, CancellationToken.None);

        Assert.Equal(NodeStatus.Offline, Assert.Single(down).Status);
        Assert.False(runtime.Snapshot.FindNode(2)!.IsOnline);
        Assert.DoesNotContain(2, Enumerable.Range(0, 10).Select(_ => runtime.Select([], default).Node!.Id));

        _dns.Answers["app.example.com"] = [IPAddress.Parse("192.0.2.11")];
        var up = await resolver.RefreshAsync(runtime, CancellationToken.None);

        Assert.Equal(NodeStatus.Online, Assert.Single(up).Status);
        Assert.Equal(IPAddress.Parse("192.0.2.11"), runtime.Snapshot.FindNode(2)!.EndPoint.Address);
        Assert.Contains(2, Enumerable.Range(0, 10).Select(_ => runtime.Select([], default).Node!.Id));
        Assert.Empty(await resolver.RefreshAsync(runtime, CancellationToken.None));
    }

    [Fact]
    public async Task Refresh_AddressChanges_MaglevKeepsEveryClientOnItsNode()
    {
        _dns.Answers["a.example.com"] = [IPAddress.Parse("192.0.2.1")];
        _dns.Answers["b.example.com"] = [IPAddress.Parse("192.0.2.2")];
        var config = LoadBalancer(Node(1, address: "a.example.com"), Node(2, address: "b.example.com"), Node(3)).WithSourceIp();
        var runtime = await CreateAsync(config);
        var before = Enumerable.Range(0, 200).Select(i => runtime.Snapshot.Maglev!.Lookup(StableHash.Of(ClientKey(i))).Id).ToList();
        var snapshot = runtime.Snapshot;

        _dns.Answers["a.example.com"] = [IPAddress.Parse("198.51.100.7")];
        await new NodeAddressResolver(_dns, TimeSpan.FromSeconds(5)).RefreshAsync(runtime, CancellationToken.None);

        Assert.NotSame(snapshot, runtime.Snapshot);
        Assert.Equal(IPAddress.Parse("198.51.100.7"), runtime.Snapshot.FindNode(1)!.EndPoint.Address);
        Assert.Equal("a.example.com:8443", runtime.Snapshot.FindNode(1)!.HashKey);
        var after = Enumerable.Range(0, 200).Select(i => runtime.Snapshot.Maglev!.Lookup(StableHash.Of(ClientKey(i))).Id).ToList();
        Assert.Equal(before, after);
        Assert.Contains(1, after);
    }

    [Fact]
    public async Task Resolve_ResolverThrows_UnresolvedWithTheReason()
    {
        var results = await new NodeAddressResolver(_dns, TimeSpan.FromSeconds(5)).ResolveAsync(["x.invalid"], CancellationToken.None);

        Assert.Null(results["x.invalid"].Address);
        Assert.Contains("No such host", results["x.invalid"].Detail, StringComparison.Ordinal);
    }

    private async Task<LoadBalancerRuntime> CreateAsync(LoadBalancerConfig config)
    {
        // As the data plane does: resolve first, then publish the model with the addresses.
        var runtime = new LoadBalancerRuntime(config, Ring(1), _clock, new SeededRandomSource(20250101));
        var resolver = new NodeAddressResolver(_dns, TimeSpan.FromSeconds(5));
        runtime.Apply(config, await resolver.ResolveAsync(NodeAddressResolver.NamesOf(config), CancellationToken.None));
        return runtime;
    }

    private sealed class FakeDns : IHostNameResolver
    {
        public Dictionary<string, IPAddress[]> Answers { get; } = new(StringComparer.OrdinalIgnoreCase);

        public Task<IPAddress[]> GetHostAddressesAsync(string hostName, CancellationToken cancellationToken) =>
            Answers.TryGetValue(hostName, out var addresses)
                ? Task.FromResult(addresses)
                : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound, "No such host is known"));
    }
}

using System.Net;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests;

/// <summary>Real Tether, real Kestrel backends, real sockets: balancing, conditions, errors and live changes.</summary>
public sealed class HttpLoadBalancingTests : TetherTestBase
{
    [Fact]
    public async Task RoundRobin_ThreeBackends_SpreadsEvenly()
    {
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends);
        using var client = Clients.WithoutCookies(port);

        var spread = await Clients.SpreadAsync(client, 30);

        Assert.Equal(3, spread.Count);
        Assert.All(spread.Values, v => Assert.Equal(10, v));
    }

    [Fact]
    public async Task Random_ThreeBackends_ReachesEveryBackend()
    {
        var (_, port) = await _tether.CreateLoadBalancerAsync("RANDOM", _backends);
        using var client = Clients.WithoutCookies(port);

        var spread = await Clients.SpreadAsync(client, 90);

        Assert.Equal(3, spread.Count);
        Assert.All(spread.Values, v => Assert.InRange(v, 10, 60));
    }

    [Fact]
    public async Task WeightedRoundRobin_Weights3And1_SendsThreeQuarters()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("WEIGHTED_ROUND_ROBIN", _backends.Take(2));
        var nodes = await _tether.GetJsonAsync($"loadbalancers/{id}/nodes");
        var first = nodes["nodes"]![0]!["id"]!.GetValue<int>();
        var update = await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/nodes/{first}", """{"node":{"weight":3}}""");
        Assert.Equal(HttpStatusCode.Accepted, update.StatusCode);
        using var client = Clients.WithoutCookies(port);

        var spread = await Clients.SpreadAsync(client, 40);

        Assert.Equal(30, spread["b1"]);
        Assert.Equal(10, spread["b2"]);
    }

    [Fact]
    public async Task NodeCondition_DisabledAtRunTime_GetsNoTraffic()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends);
        var nodes = await _tether.GetJsonAsync($"loadbalancers/{id}/nodes");
        var b2 = nodes["nodes"]!.AsArray().First(n => n!["port"]!.GetValue<int>() == _backends[1].Port)!["id"]!.GetValue<int>();

        var update = await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/nodes/{b2}", """{"condition":"DISABLED"}""");
        Assert.Equal(HttpStatusCode.Accepted, update.StatusCode);
        using var client = Clients.WithoutCookies(port);
        var spread = await Clients.SpreadAsync(client, 20);

        Assert.False(spread.ContainsKey("b2"));
        Assert.Equal(10, spread["b1"]);
        Assert.Equal(10, spread["b3"]);
    }

    [Fact]
    public async Task Secondary_OnlyWhenNoPrimaryAvailable_TakesTraffic()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends.Take(1));
        var add = await _tether.SendJsonAsync(HttpMethod.Post, $"loadbalancers/{id}/nodes",
            $$"""{"nodes":[{"address":"127.0.0.1","port":{{_backends[1].Port}},"condition":"ENABLED","type":"SECONDARY"}]}""");
        Assert.Equal(HttpStatusCode.Accepted, add.StatusCode);
        using var client = Clients.WithoutCookies(port);

        Assert.Equal(10, (await Clients.SpreadAsync(client, 10))["b1"]);

        var nodes = await _tether.GetJsonAsync($"loadbalancers/{id}/nodes");
        var primary = nodes["nodes"]!.AsArray().First(n => n!["type"]!.GetValue<string>() == "PRIMARY")!["id"]!.GetValue<int>();
        await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/nodes/{primary}", """{"condition":"DISABLED"}""");

        Assert.Equal(10, (await Clients.SpreadAsync(client, 10))["b2"]);
    }

    [Fact]
    public async Task Request_AllNodesDisabled_Answers503()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("RANDOM", _backends.Take(1));
        var nodes = await _tether.GetJsonAsync($"loadbalancers/{id}/nodes");
        var node = nodes["nodes"]![0]!["id"]!.GetValue<int>();
        await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/nodes/{node}", """{"condition":"DISABLED"}""");
        using var client = Clients.WithoutCookies(port);

        using var response = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task Request_NodeRefusesConnections_Answers502()
    {
        var dead = await TestBackend.StartAsync("dead");
        await dead.DisposeAsync();
        var (_, port) = await _tether.CreateLoadBalancerAsync("RANDOM", [dead]);
        using var client = Clients.WithoutCookies(port);

        using var response = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }

    [Fact]
    public async Task Request_NodeSlowerThanTimeout_AnswersGatewayTimeout()
    {
        var (_, port) = await _tether.CreateLoadBalancerAsync("RANDOM", _backends.Take(1), extra: ""","timeout":1""");
        using var client = Clients.WithoutCookies(port);

        using var response = await client.GetAsync("/slow?ms=3000");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
    }

    [Fact]
    public async Task Forwarding_AddsXForwardedHeadersAndKeepsHost()
    {
        var (_, port) = await _tether.CreateLoadBalancerAsync("RANDOM", _backends.Take(1));
        using var client = Clients.WithoutCookies(port);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/headers");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        request.Headers.Add("X-Forwarded-Proto", "https");

        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Contains("x-forwarded-for=203.0.113.7, 127.0.0.1", body);
        Assert.Contains("x-forwarded-proto=http\n", body);
        Assert.Contains($"x-forwarded-port={port}\n", body);
        Assert.Contains($"host=127.0.0.1:{port}", body);
    }

    [Fact]
    public async Task AlgorithmChange_WithRequestInFlight_RequestCompletes()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("RANDOM", _backends.Take(1));
        using var client = Clients.WithoutCookies(port);
        var slow = client.GetAsync("/slow?ms=1500");
        await Task.Delay(300);

        var update = await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}", """{"loadBalancer":{"algorithm":"ROUND_ROBIN","name":"renamed"}}""");
        using var response = await slow;

        Assert.Equal(HttpStatusCode.Accepted, update.StatusCode);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("b1", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task PortChange_NewPortServesAndOldPortCloses()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("RANDOM", _backends.Take(1));
        var newPort = FreePort.Next();

        var update = await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}", $$"""{"port":{{newPort}}}""");
        Assert.Equal(HttpStatusCode.Accepted, update.StatusCode);

        using var client = Clients.WithoutCookies(newPort);
        Assert.Equal("b1", await client.GetStringAsync("/"));
        await Task.Delay(500);
        using var old = Clients.WithoutCookies(port);
        await Assert.ThrowsAsync<HttpRequestException>(() => old.GetStringAsync("/"));
    }

    [Fact]
    public async Task PortChange_PortInUse_Answers400AndKeepsServing()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("RANDOM", _backends.Take(1));
        using var blocker = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        var taken = ((IPEndPoint)blocker.LocalEndpoint).Port;

        var update = await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}", $$"""{"port":{{taken}}}""");
        var body = await update.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, update.StatusCode);
        Assert.Contains("address already in use", body);
        var lb = await _tether.GetJsonAsync($"loadbalancers/{id}");
        Assert.Equal(port, lb["loadBalancer"]!["port"]!.GetValue<int>());
        using var client = Clients.WithoutCookies(port);
        Assert.Equal("b1", await client.GetStringAsync("/"));
    }

    [Fact]
    public async Task Create_PortInUse_Answers400AndCreatesNothing()
    {
        using var blocker = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        var taken = ((IPEndPoint)blocker.LocalEndpoint).Port;
        var before = (await _tether.GetJsonAsync("loadbalancers"))["loadBalancers"]!.AsArray().Count;

        var create = await _tether.SendJsonAsync(HttpMethod.Post, "loadbalancers",
            $$$"""{"loadBalancer":{"name":"x","protocol":"HTTP","port":{{{taken}}},"virtualIps":[{"type":"SERVICENET"}],"nodes":[{"address":"127.0.0.1","port":{{{_backends[0].Port}}},"condition":"ENABLED"}]}}""");

        Assert.Equal(HttpStatusCode.BadRequest, create.StatusCode);
        Assert.Equal(before, (await _tether.GetJsonAsync("loadbalancers"))["loadBalancers"]!.AsArray().Count);
    }

    [Fact]
    public async Task Delete_LoadBalancer_StopsListening()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("RANDOM", _backends.Take(1));

        var delete = await _tether.SendJsonAsync(HttpMethod.Delete, $"loadbalancers/{id}", null);

        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        using var client = Clients.WithoutCookies(port);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStringAsync("/"));
    }

    /// <summary>Refused connects, a data timeout and concurrent requests in Rackspace's stats fields. Nothing in it
    /// hangs on timing: the three concurrent requests are held by the node until all three are there (so in flight
    /// together whatever the load; the load balancer's timeout is 1 s only for the slow request), and each phase and
    /// the final read wait until <c>currentConn</c> is 0: the client has an answer's last byte a moment before Tether
    /// ends the request on its side (returns the node connection, then counts the end), so a read right after the
    /// answer may still see it in flight (the cause of this test's failure in 1 of 4 full CI runs, 2026-12-03).</summary>
    [Fact]
    public async Task Stats_AfterRefusedSlowAndConcurrentRequests_CountRackspaceFields()
    {
        var dead = await TestBackend.StartAsync("dead");
        await dead.DisposeAsync();
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [_backends[0], dead], extra: ""","timeout":30""");
        using var client = Clients.WithoutCookies(port);

        for (var i = 0; i < 4; i++)
        {
            using var response = await client.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // a refused connect is retried on the live node
        }

        // Each phase starts with nothing in flight, so that maxConn is the concurrent phase's 3 exactly.
        await _tether.StatsWhenIdleAsync(id);
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => client.GetAsync("/together?n=3")));
        foreach (var response in concurrent)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        await _tether.StatsWhenIdleAsync(id);
        var update = await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}", """{"timeout":1}""");
        Assert.Equal(HttpStatusCode.Accepted, update.StatusCode);
        using (var slow = await client.GetAsync("/slow?ms=2500"))
        {
            Assert.Equal(HttpStatusCode.GatewayTimeout, slow.StatusCode);
        }

        var stats = await _tether.StatsWhenIdleAsync(id);

        Assert.True(stats["connectError"]!.GetValue<long>() >= 1, stats.ToJsonString());
        Assert.Equal(1, stats["dataTimedOut"]!.GetValue<long>());
        Assert.Equal(3, stats["maxConn"]!.GetValue<int>());
        Assert.Equal(0, stats["currentConn"]!.GetValue<long>());
    }
}

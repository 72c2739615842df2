using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Tether.Core.Model;
using Tether.Management.Storage;

namespace Tether.Management.Tests;

/// <summary>Restart, restore and failure handling: each test has its own data directory and hosts.</summary>
public sealed class LoadBalancerServiceTests : IDisposable
{
    private const string Token = "service-tests-token";
    private const int Account = 5;

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private Task<ApiHost> StartAsync(RecordingDataPlane? dataPlane = null) =>
        ApiHost.StartAsync(_directory.Path, o => o.Tokens.Add(new ManagementToken { Token = Token, AccountId = Account }), dataPlane);

    private static ApiClient Api(ApiHost host) => host.Client(Account, Token);

    [Fact]
    public async Task Restart_NewHostOverTheSameDataDirectory_RestoresEveryLoadBalancerNodeAndPersistenceSetting()
    {
        string before;
        int[] ids;
        await using (var host = await StartAsync())
        {
            var api = Api(host);
            var a = await api.CreateLoadBalancerAsync("HTTP", extra: """
                "algorithm":"WEIGHTED_ROUND_ROBIN","timeout":17,"metadata":[{"key":"k","value":"v"}],
                "sessionPersistence":{"persistenceType":"HTTP_COOKIE","cookieName":"s","persistenceTimeout":700,"disableFallback":true,
                  "cookiePath":"/x","cookieDomain":"example.com","cookieSecure":true,"cookieHttpOnly":false,"cookieSameSite":"None"}
                """,
                nodes: """[{"address":"10.0.0.1","port":80,"weight":3},{"address":"10.0.0.2","port":81,"condition":"DRAINING","type":"SECONDARY"}]""");
            var b = await api.CreateLoadBalancerAsync("UDP", extra: "\"sessionPersistence\":{\"persistenceType\":\"SOURCE_IP\",\"persistenceTimeout\":120}");
            var c = await api.CreateLoadBalancerAsync("TCP");
            Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{c}/nodes/{(await api.GetAsync($"/loadbalancers/{c}/nodes")).Body!["nodes"]![0]!["id"]}",
                """{"condition":"DISABLED"}""")).Status);
            ids = [a, b, c];
            before = await DescribeAsync(api, ids);
        }

        var dataPlane = new RecordingDataPlane();
        await using (var host = await StartAsync(dataPlane))
        {
            var api = Api(host);
            Assert.Equal(before, await DescribeAsync(api, ids));
            Assert.Equal(ids, dataPlane.Live.Keys.Order().ToArray());
            var restored = dataPlane.Live[ids[0]];
            Assert.Equal(PersistenceType.HttpCookie, restored.SessionPersistence!.Type);
            Assert.Equal("None", restored.SessionPersistence.CookieSameSite);
            Assert.Equal(2, restored.Nodes.Length);

            // Sequences survive the restart: new ids are never reused.
            var d = await api.CreateLoadBalancerAsync();
            Assert.True(d > ids.Max());
            var newNode = dataPlane.Live[d].Nodes.Single().Id;
            Assert.True(newNode > host.Store.LoadAll().Where(l => l.Id != d).SelectMany(l => l.Nodes).Max(n => n.Id));
        }
    }

    private static async Task<string> DescribeAsync(ApiClient api, int[] ids)
    {
        var parts = new List<string> { (await api.GetAsync("/loadbalancers")).Text };
        foreach (var id in ids)
        {
            parts.Add((await api.GetAsync($"/loadbalancers/{id}")).Text);
            parts.Add((await api.GetAsync($"/loadbalancers/{id}/nodes")).Text);
            parts.Add((await api.GetAsync($"/loadbalancers/{id}/sessionpersistence")).Text);
        }

        return string.Join("\n", parts);
    }

    [Fact]
    public async Task Restore_OneListenerCannotBind_MarksItErrorAndStartsTheOthers()
    {
        int failing, healthy, failingPort;
        await using (var host = await StartAsync())
        {
            failingPort = ApiHost.NextPort();
            failing = await Api(host).CreateLoadBalancerAsync(port: failingPort);
            healthy = await Api(host).CreateLoadBalancerAsync();
        }

        var dataPlane = new RecordingDataPlane();
        dataPlane.FailBind(failingPort);
        await using (var host = await StartAsync(dataPlane))
        {
            var api = Api(host);
            Assert.Equal("ERROR", (await api.GetAsync($"/loadbalancers/{failing}")).Body!["loadBalancer"]!["status"]!.GetValue<string>());
            Assert.Equal("ACTIVE", (await api.GetAsync($"/loadbalancers/{healthy}")).Body!["loadBalancer"]!["status"]!.GetValue<string>());
            Assert.Equal([healthy], dataPlane.Live.Keys.ToArray());
            Assert.Equal(LoadBalancerStatus.Error, host.Store.LoadAll().Single(c => c.Id == failing).Status);
            Assert.Contains(host.Logs.Messages, m => m.Level == LogLevel.Error && m.Message.Contains($"Load balancer {failing}", StringComparison.Ordinal));

            // ERROR is not immutable: the operator can move it to a free port, and it becomes ACTIVE.
            var response = await api.PutAsync($"/loadbalancers/{failing}", $$"""{"port":{{ApiHost.NextPort()}}}""");
            Assert.Equal(202, response.Status);
            Assert.Equal("ACTIVE", (await api.GetAsync($"/loadbalancers/{failing}")).Body!["loadBalancer"]!["status"]!.GetValue<string>());
            Assert.True(dataPlane.Live.ContainsKey(failing));
        }
    }

    [Fact]
    public async Task Restore_ErrorLoadBalancerThatBindsAgain_BecomesActive()
    {
        int id, port;
        await using (var host = await StartAsync())
        {
            port = ApiHost.NextPort();
            id = await Api(host).CreateLoadBalancerAsync(port: port);
        }

        var failingPlane = new RecordingDataPlane();
        failingPlane.FailBind(port);
        await using (var host = await StartAsync(failingPlane))
        {
            // An ERROR load balancer may still be deleted or fixed; here it is only left as is.
            Assert.Equal(LoadBalancerStatus.Error, host.Service.All.Single().Status);
        }

        await using (var host = await StartAsync())
        {
            Assert.Equal("ACTIVE", (await Api(host).GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!["status"]!.GetValue<string>());
            Assert.Equal(LoadBalancerStatus.Active, host.Store.LoadAll().Single().Status);
        }
    }

    [Fact]
    public async Task Delete_ErrorLoadBalancer_Returns202()
    {
        int id, port;
        await using (var host = await StartAsync())
        {
            port = ApiHost.NextPort();
            id = await Api(host).CreateLoadBalancerAsync(port: port);
        }

        var dataPlane = new RecordingDataPlane();
        dataPlane.FailBind(port);
        await using (var host = await StartAsync(dataPlane))
        {
            Assert.Equal(202, (await Api(host).DeleteAsync($"/loadbalancers/{id}")).Status);
            Assert.Empty(host.Store.LoadAll());
        }
    }

    [Theory]
    [InlineData("SUSPENDED")]
    [InlineData("PENDING_UPDATE")]
    [InlineData("BUILD")]
    public async Task Mutation_LoadBalancerNotActive_Returns422AndIsNotStarted(string status)
    {
        using (var store = TetherStore.Open(_directory.Path))
        {
            store.Save(new LoadBalancerConfig
            {
                Id = 77,
                AccountId = Account,
                Name = "frozen",
                Protocol = "HTTP",
                Port = ApiHost.NextPort(),
                Status = status,
                Created = ApiHost.StartTime,
                Updated = ApiHost.StartTime,
                VirtualIps = [new VirtualIpConfig { Id = 1, Address = "0.0.0.0", Type = VirtualIpType.Public }],
                Nodes = [new NodeConfig { Id = 1, Address = "10.0.0.1", Port = 80, Metadata = [new MetadataItem(6, "rack", "r1")] }],
                SessionPersistence = new SessionPersistenceConfig { Type = PersistenceType.SourceIp },
                Metadata = [new MetadataItem(5, "team", "blue")],
            });
        }

        var dataPlane = new RecordingDataPlane();
        await using var host = await StartAsync(dataPlane);
        var api = Api(host);

        var responses = new[]
        {
            await api.PutAsync("/loadbalancers/77", """{"name":"x"}"""),
            await api.DeleteAsync("/loadbalancers/77"),
            await api.DeleteAsync("/loadbalancers?id=77"),
            await api.PostAsync("/loadbalancers/77/nodes", """{"nodes":[{"address":"10.0.0.2","port":80}]}"""),
            await api.PutAsync("/loadbalancers/77/nodes/1", """{"condition":"DISABLED"}"""),
            await api.DeleteAsync("/loadbalancers/77/nodes/1"),
            await api.PutAsync("/loadbalancers/77/sessionpersistence", """{"persistenceType":"SOURCE_IP"}"""),
            await api.DeleteAsync("/loadbalancers/77/sessionpersistence"),
            await api.PostAsync("/loadbalancers/77/metadata", """{"metadata":[{"key":"k","value":"v"}]}"""),
            await api.PutAsync("/loadbalancers/77/metadata/5", """{"meta":{"value":"red"}}"""),
            await api.DeleteAsync("/loadbalancers/77/metadata/5"),
            await api.DeleteAsync("/loadbalancers/77/metadata?id=5"),
            await api.PostAsync("/loadbalancers/77/nodes/1/metadata", """{"metadata":[{"key":"k","value":"v"}]}"""),
            await api.PutAsync("/loadbalancers/77/nodes/1/metadata/6", """{"meta":{"value":"r2"}}"""),
            await api.DeleteAsync("/loadbalancers/77/nodes/1/metadata/6"),
            await api.DeleteAsync("/loadbalancers/77/nodes/1/metadata?id=6"),
        };

        Assert.All(responses, r => Assert.Equal(
            $$"""{"message":"Load Balancer '77' has a status of '{{status}}' and is considered immutable.","code":422}""", r.Text));
        Assert.Equal(status, (await api.GetAsync("/loadbalancers/77")).Body!["loadBalancer"]!["status"]!.GetValue<string>());
        Assert.Empty(dataPlane.Applied);
        Assert.Equal("frozen", host.Store.LoadAll().Single().Name);
        Assert.Equal("blue", host.Store.LoadAll().Single().Metadata.Single().Value);
        Assert.Equal("r1", host.Store.LoadAll().Single().Nodes[0].Metadata.Single().Value);
    }

    [Fact]
    public async Task Update_StoreWriteFailsAfterApply_RevertsTheDataPlaneAndReturns500()
    {
        await using var host = await StartAsync();
        var api = Api(host);
        var id = await api.CreateLoadBalancerAsync();

        HideTable(host, hide: true);
        var response = await api.PutAsync($"/loadbalancers/{id}", """{"name":"lost"}""");
        HideTable(host, hide: false);

        Assert.Equal(500, response.Status);
        Assert.Equal(500, response.Body!["code"]!.GetValue<int>());
        Assert.Equal("lb", host.DataPlane.Live[id].Name);
        Assert.Equal("lost", host.DataPlane.Applied[^2].Name);
        Assert.Equal("lb", (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!["name"]!.GetValue<string>());
        Assert.Equal("lb", host.Store.LoadAll().Single().Name);
    }

    [Fact]
    public async Task Create_StoreWriteFailsAfterApply_RemovesItFromTheDataPlaneAndReturns500()
    {
        await using var host = await StartAsync();
        var api = Api(host);

        HideTable(host, hide: true);
        var response = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort()));
        HideTable(host, hide: false);

        Assert.Equal(500, response.Status);
        Assert.Empty(host.DataPlane.Live);
        Assert.Single(host.DataPlane.Removed);
        Assert.Empty((await api.GetAsync("/loadbalancers")).Body!["loadBalancers"]!.AsArray());
    }

    [Fact]
    public async Task Delete_StoreWriteFailsAfterRemove_ReappliesAndReturns500()
    {
        await using var host = await StartAsync();
        var api = Api(host);
        var a = await api.CreateLoadBalancerAsync();
        var b = await api.CreateLoadBalancerAsync();

        HideTable(host, hide: true);
        var response = await api.DeleteAsync($"/loadbalancers?id={a}&id={b}");
        HideTable(host, hide: false);

        Assert.Equal(500, response.Status);
        Assert.Equal([a, b], host.DataPlane.Live.Keys.Order().ToArray());
        Assert.Equal(2, (await api.GetAsync("/loadbalancers")).Body!["loadBalancers"]!.AsArray().Count);
        Assert.Equal(2, host.Store.LoadAll().Count);
    }

    [Fact]
    public async Task Update_DataPlaneThrowsOtherError_Returns500AndKeepsTheOldConfiguration()
    {
        var dataPlane = new CrashingDataPlane();
        await using var host = await StartAsync(dataPlane);
        var api = Api(host);
        var id = await api.CreateLoadBalancerAsync();
        dataPlane.Crash = true;

        var response = await api.PutAsync($"/loadbalancers/{id}", """{"name":"boom"}""");

        dataPlane.Crash = false;
        Assert.Equal(500, response.Status);
        Assert.Equal("lb", (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!["name"]!.GetValue<string>());
        Assert.Equal("lb", host.Store.LoadAll().Single().Name);
    }

    /// <summary>Makes the store's writes of load balancers fail (the table disappears) or work again.</summary>
    private static void HideTable(ApiHost host, bool hide)
    {
        using var connection = new SqliteConnection($"Data Source={host.Store.DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = hide
            ? "ALTER TABLE load_balancers RENAME TO hidden_load_balancers;"
            : "ALTER TABLE hidden_load_balancers RENAME TO load_balancers;";
        command.ExecuteNonQuery();
    }

    private sealed class CrashingDataPlane : RecordingDataPlane
    {
        public bool Crash { get; set; }

        public override Task ApplyAsync(LoadBalancerConfig config, CancellationToken cancellationToken) =>
            Crash ? throw new InvalidOperationException("data plane crashed") : base.ApplyAsync(config, cancellationToken);
    }
}

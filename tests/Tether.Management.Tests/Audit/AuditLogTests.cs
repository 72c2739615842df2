using Tether.Management.Auth;

namespace Tether.Management.Tests.Audit;

/// <summary>The audit log (issue 11): every configuration change through the API is stored with who, what and when,
/// readable through <c>GET /v1.0/{account}/audit</c> (newest first, paged, the caller's account only), survives a
/// restart, never holds a secret, and says when a change disabled session persistence as a side effect.</summary>
public sealed class AuditLogTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    private static JsonArray Entries(ApiResponse response)
    {
        Assert.True(response.Status == 200, response.ToString());
        return response.Body!["auditEntries"]!.AsArray();
    }

    [Fact]
    public async Task Audit_ChangesThroughTheApi_ListedNewestFirstWithWhoWhatAndWhen()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}", """{"loadBalancer":{"name":"renamed","algorithm":"ROUND_ROBIN"}}""")).Status);
        var added = await api.PostAsync($"/loadbalancers/{id}/nodes", """{"nodes":[{"address":"10.0.0.2","port":81,"condition":"ENABLED"}]}""");
        Assert.Equal(202, added.Status);
        var nodeId = added.Body!["nodes"]![0]!["id"]!.GetValue<int>();

        var entries = Entries(await api.GetAsync("/audit"));

        Assert.Equal(3, entries.Count);
        var nodes = entries[0]!;
        var update = entries[1]!;
        var create = entries[2]!;
        Assert.True(nodes["id"]!.GetValue<long>() > update["id"]!.GetValue<long>());
        Assert.Equal($"/loadbalancers/{id}/nodes", nodes["resource"]!.GetValue<string>());
        Assert.Equal("POST", nodes["method"]!.GetValue<string>());
        Assert.Equal("create", nodes["action"]!.GetValue<string>());
        Assert.Contains(nodes["changes"]!.AsArray(), c => c!["field"]!.GetValue<string>() == $"nodes[{nodeId}]"
            && c["old"] is null && c["new"]!["address"]!.GetValue<string>() == "10.0.0.2");

        Assert.Equal($"/loadbalancers/{id}", update["resource"]!.GetValue<string>());
        Assert.Equal("update", update["action"]!.GetValue<string>());
        Assert.Equal(TokenId.Of(api.Token!), update["tokenId"]!.GetValue<string>());
        Assert.Equal(api.Account, update["accountId"]!.GetValue<int>());
        Assert.Equal(id, update["loadBalancerId"]!.GetValue<int>());
        Assert.Equal("applied", update["outcome"]!.GetValue<string>());
        Assert.Equal("2026-01-01T00:00:00.000Z", update["time"]!.GetValue<string>());
        var changes = update["changes"]!.AsArray();
        Assert.Contains(changes, c => c!["field"]!.GetValue<string>() == "name" && c["old"]!.GetValue<string>() == "lb"
            && c["new"]!.GetValue<string>() == "renamed");
        Assert.DoesNotContain(changes, c => c!["field"]!.GetValue<string>() is "updated" or "port");

        Assert.Equal("/loadbalancers", create["resource"]!.GetValue<string>());
        Assert.Equal("create", create["action"]!.GetValue<string>());
        Assert.DoesNotContain(api.Token!, (await api.GetAsync("/audit")).Text);
        Assert.Contains(_host.Logs.Messages, m => m.Message.Contains($"Load balancer {id}: PUT /loadbalancers/{id} by token {TokenId.Of(api.Token!)} (account {api.Account})")
            && m.Message.Contains("name: \"lb\" -> \"renamed\""));
    }

    [Fact]
    public async Task Audit_Paging_MarkerAndLimitWalkEveryEntryOnce()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}", "{\"loadBalancer\":{\"name\":\"n" + i + "\"}}")).Status);
        }

        var seen = new List<long>();
        string? marker = null;
        while (true)
        {
            var page = Entries(await api.GetAsync("/audit?limit=2" + (marker is null ? "" : "&marker=" + marker)));
            seen.AddRange(page.Select(e => e!["id"]!.GetValue<long>()));
            if (page.Count < 2)
            {
                break;
            }

            marker = page[^1]!["id"]!.GetValue<long>().ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        Assert.Equal(5, seen.Count);
        Assert.Equal(seen.OrderDescending(), seen);
        Assert.Equal(400, (await api.GetAsync("/audit?limit=0")).Status);
        Assert.Equal(400, (await api.GetAsync("/audit?marker=abc")).Status);
    }

    [Fact]
    public async Task Audit_OtherAccount_SeesNothingOfIt()
    {
        var owner = _host.NewAccount();
        await owner.CreateLoadBalancerAsync();
        var other = _host.NewAccount();

        Assert.Empty(Entries(await other.GetAsync("/audit")));
        Assert.Equal(401, (await _host.Client(owner.Account, other.Token).GetAsync("/audit")).Status);
    }

    [Fact]
    public async Task Audit_PortChangeDropsPersistence_SaysSo()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}/sessionpersistence", """{"sessionPersistence":{"persistenceType":"HTTP_COOKIE"}}""")).Status);
        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}", "{\"loadBalancer\":{\"port\":" + ApiHost.NextPort() + "}}")).Status);

        var entry = Entries(await api.GetAsync("/audit?limit=1"))[0]!;

        Assert.Equal("session persistence (HTTP_COOKIE) disabled as a side effect of the port change", entry["notes"]![0]!.GetValue<string>());
        Assert.Contains(entry["changes"]!.AsArray(), c => c!["field"]!.GetValue<string>() == "sessionPersistence" && c["new"] is null);
        Assert.Contains(entry["changes"]!.AsArray(), c => c!["field"]!.GetValue<string>() == "port");
    }

    [Fact]
    public async Task Audit_SslTermination_NeverHoldsThePrivateKey()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var (certificate, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        var body = new JsonObject
        {
            ["sslTermination"] = new JsonObject
            {
                ["certificate"] = certificate,
                ["privateKey"] = key,
                ["securePort"] = ApiHost.NextPort(),
                ["enabled"] = true,
            },
        };
        var put = await api.PutAsync($"/loadbalancers/{id}/ssltermination", body.ToJsonString());
        Assert.True(put.Status is 200 or 202, put.ToString());

        var text = (await api.GetAsync("/audit?limit=1")).Text;

        Assert.Contains("[secret]", text);
        Assert.DoesNotContain("PRIVATE KEY", text);
        Assert.DoesNotContain(key.Split('\n')[1], text);
    }

    [Fact]
    public async Task Audit_Delete_RecordedAndKeptAcrossRestart()
    {
        using var directory = new TempDirectory();
        int id;
        int account;
        string token;
        await using (var host = await ApiHost.StartAsync(directory.Path))
        {
            var api = host.NewAccount();
            account = api.Account;
            token = api.Token!;
            id = await api.CreateLoadBalancerAsync();
            Assert.Equal(202, (await api.DeleteAsync($"/loadbalancers/{id}")).Status);
        }

        await using var restarted = await ApiHost.StartAsync(directory.Path);
        var entries = Entries(await restarted.Client(account, token).GetAsync("/audit"));

        Assert.Equal(["delete", "create"], entries.Select(e => e!["action"]!.GetValue<string>()));
        Assert.Equal(id, entries[0]!["loadBalancerId"]!.GetValue<int>());
    }

    [Fact]
    public async Task Audit_DatabaseFromBeforeTheAuditLog_GainsItAtStart()
    {
        using var directory = new TempDirectory();
        using (var old = Tether.Management.Storage.TetherStore.Open(directory.Path))
        {
            using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={old.DatabasePath};Pooling=False");
            connection.Open();
            using var drop = connection.CreateCommand();
            drop.CommandText = "DROP TABLE audit_log;";
            drop.ExecuteNonQuery();
        }

        await using var host = await ApiHost.StartAsync(directory.Path);
        var api = host.NewAccount();
        await api.CreateLoadBalancerAsync();

        Assert.Single(Entries(await api.GetAsync("/audit")));
    }
}

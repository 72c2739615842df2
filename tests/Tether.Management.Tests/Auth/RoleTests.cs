using Tether.Management.Auth;

namespace Tether.Management.Tests.Auth;

/// <summary>Rackspace's roles (observer: read; creator: create, read, update; admin: all), checked per method before
/// any endpoint runs.</summary>
public sealed class RoleTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private const string Forbidden = "You are forbidden to perform the operation";

    private readonly ApiHost _host = fixture.Host;

    [Theory]
    [InlineData("observer", "GET", true)]
    [InlineData("observer", "POST", false)]
    [InlineData("observer", "PUT", false)]
    [InlineData("observer", "DELETE", false)]
    [InlineData("creator", "GET", true)]
    [InlineData("creator", "POST", true)]
    [InlineData("creator", "PUT", true)]
    [InlineData("creator", "DELETE", false)]
    [InlineData("admin", "GET", true)]
    [InlineData("admin", "POST", true)]
    [InlineData("admin", "PUT", true)]
    [InlineData("admin", "DELETE", true)]
    public async Task StoredToken_EachRoleAndVerb_AllowedOrRefusedWith403AndNothingChanged(string role, string method, bool allowed)
    {
        var admin = _host.NewAccount();
        var id = await admin.CreateLoadBalancerAsync(nodes: """[{"address":"10.0.0.1","port":80},{"address":"10.0.0.2","port":80}]""");
        var nodeId = (await admin.GetAsync($"/loadbalancers/{id}/nodes")).Body!["nodes"]![1]!["id"]!.GetValue<int>();
        Assert.True(TokenRoles.TryParse(role, out var parsed));
        var token = "role-" + Guid.NewGuid().ToString("N");
        _host.Store.AddToken(token, admin.Account, ApiHost.StartTime, parsed);
        var client = _host.Client(admin.Account, token);
        var before = (await admin.GetAsync($"/loadbalancers/{id}")).Text;

        var response = method switch
        {
            "GET" => await client.GetAsync($"/loadbalancers/{id}"),
            "POST" => await client.PostAsync($"/loadbalancers/{id}/nodes", """{"nodes":[{"address":"10.0.0.3","port":80}]}"""),
            "PUT" => await client.PutAsync($"/loadbalancers/{id}", """{"name":"renamed"}"""),
            _ => await client.DeleteAsync($"/loadbalancers/{id}/nodes/{nodeId}"),
        };

        var after = (await admin.GetAsync($"/loadbalancers/{id}")).Text;
        if (allowed)
        {
            Assert.True(response.Status is 200 or 202, response.ToString());
            Assert.Equal(method != "GET", before != after);
        }
        else
        {
            Assert.Equal(403, response.Status);
            Assert.Equal(Forbidden, response.Body!["message"]!.GetValue<string>());
            Assert.Equal(403, response.Body["code"]!.GetValue<int>());
            Assert.Contains($"role {role} does not allow {method}", response.Body["details"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(before, after);
        }
    }

    [Fact]
    public async Task RefusedWrite_ByObserver_IsLoggedAndNotAudited()
    {
        var admin = _host.NewAccount();
        var id = await admin.CreateLoadBalancerAsync();
        var token = "observer-" + Guid.NewGuid().ToString("N");
        _host.Store.AddToken(token, admin.Account, ApiHost.StartTime, TokenRole.Observer);
        var audited = (await admin.GetAsync("/audit")).Body!["auditEntries"]!.AsArray().Count;

        var response = await _host.Client(admin.Account, token).DeleteAsync($"/loadbalancers/{id}");

        Assert.Equal(403, response.Status);
        Assert.Equal(audited, (await admin.GetAsync("/audit")).Body!["auditEntries"]!.AsArray().Count);
        Assert.Contains(_host.Logs.Messages, e => e.Message.Contains($"Refused DELETE /loadbalancers/{id} by token {TokenId.Of(token)} (role observer", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ObserverToken_OtherAccountPath_Is401NotForbidden()
    {
        var admin = _host.NewAccount();
        var token = "observer-" + Guid.NewGuid().ToString("N");
        _host.Store.AddToken(token, admin.Account, ApiHost.StartTime, TokenRole.Observer);

        var response = await _host.Client(admin.Account + 1000, token).PostAsync("/loadbalancers", "{}");

        Assert.Equal(401, response.Status);
    }

    [Fact]
    public async Task ConfiguredTokens_RoleFromConfigurationAndAdminByDefault()
    {
        using var directory = new TempDirectory();
        await using var host = await ApiHost.StartAsync(directory.Path, o =>
        {
            o.Tokens.Add(new ManagementToken { Token = "reader", AccountId = 7, Role = "observer" });
            o.Tokens.Add(new ManagementToken { Token = "writer", AccountId = 7, Role = "Creator" });
            o.Tokens.Add(new ManagementToken { Token = "owner", AccountId = 7 });
        });

        var reader = await host.Client(7, "reader").PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort()));
        var readerGet = await host.Client(7, "reader").GetAsync("/loadbalancers");
        var writer = await host.Client(7, "writer").PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort()));
        var id = writer.Body!["loadBalancer"]!["id"]!.GetValue<int>();
        var writerDelete = await host.Client(7, "writer").DeleteAsync($"/loadbalancers/{id}");
        var ownerDelete = await host.Client(7, "owner").DeleteAsync($"/loadbalancers/{id}");

        Assert.Equal(403, reader.Status);
        Assert.Equal(200, readerGet.Status);
        Assert.Equal(202, writer.Status);
        Assert.Equal(403, writerDelete.Status);
        Assert.Contains("DELETE needs the role admin", writerDelete.Body!["details"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(202, ownerDelete.Status);
    }

    [Fact]
    public void AddTetherManagement_UnknownConfiguredRole_IsRefused()
    {
        using var directory = new TempDirectory();
        var options = new ManagementOptions { DataDirectory = directory.Path };
        options.Tokens.Add(new ManagementToken { Token = "t", AccountId = 1, Role = "superuser" });

        var error = Assert.Throws<ArgumentException>(() => new Microsoft.Extensions.DependencyInjection.ServiceCollection().AddTetherManagement(options));

        Assert.Contains("the role \"superuser\" is not observer, creator or admin", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("example.com", true)]
    [InlineData("org", true)]
    [InlineData("my-host.example.com.", true)]
    [InlineData("bad_name.com", false)]
    [InlineData("-start.com", false)]
    [InlineData("a..b", false)]
    [InlineData("", false)]
    public void AllowedDomainNames_Check_AcceptsDnsNamesOnly(string name, bool valid)
    {
        Assert.Equal(valid, AllowedDomainNames.Check(name) is null);
    }

    [Fact]
    public void AddTetherManagement_InvalidRateLimitsOrDomain_IsRefused()
    {
        using var directory = new TempDirectory();
        var rates = new ManagementOptions { DataDirectory = directory.Path, RateLimits = "GET lots" };
        var domains = new ManagementOptions { DataDirectory = directory.Path };
        domains.AllowedDomains.Add("not a domain");

        var rateError = Assert.Throws<ArgumentException>(() => new Microsoft.Extensions.DependencyInjection.ServiceCollection().AddTetherManagement(rates));
        var domainError = Assert.Throws<ArgumentException>(() => new Microsoft.Extensions.DependencyInjection.ServiceCollection().AddTetherManagement(domains));

        Assert.Contains("ManagementOptions.RateLimits: \"GET lots\" is not a rule", rateError.Message, StringComparison.Ordinal);
        Assert.Contains("ManagementOptions.AllowedDomains: \"not a domain\" is not a domain name", domainError.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("observer", "GET", true)]
    [InlineData("observer", "HEAD", true)]
    [InlineData("observer", "PATCH", false)]
    [InlineData("creator", "PATCH", false)]
    [InlineData("admin", "PATCH", true)]
    public void Allows_OtherMethods_FollowTheRole(string role, string method, bool allowed)
    {
        Assert.True(TokenRoles.TryParse(role, out var parsed));

        Assert.Equal(allowed, parsed.Allows(method));
    }
}

using System.Text.Json;

namespace Tether.Management.Tests.Endpoints;

public sealed class SslTerminationEndpointsTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    private static string Body(string certificate, string key, int securePort, string extra = "") =>
        $$$"""{"sslTermination":{"certificate":{{{JsonSerializer.Serialize(certificate)}}},"privateKey":{{{JsonSerializer.Serialize(key)}}},"securePort":{{{securePort}}},"enabled":true{{{extra}}}}}""";

    [Fact]
    public async Task Put_ValidCertificate_Returns200AndGetNeverShowsThePrivateKey()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        var securePort = ApiHost.NextPort();

        var put = await api.PutAsync($"/loadbalancers/{id}/ssltermination", Body(cert, key, securePort, ",\"secureTrafficOnly\":false"));
        var get = await api.GetAsync($"/loadbalancers/{id}/ssltermination");

        Assert.Equal(200, put.Status);
        Assert.Equal(200, get.Status);
        var ssl = get.Body!["sslTermination"]!;
        Assert.Equal(cert, ssl["certificate"]!.GetValue<string>());
        Assert.Equal(securePort, ssl["securePort"]!.GetValue<int>());
        Assert.True(ssl["enabled"]!.GetValue<bool>());
        Assert.False(ssl["secureTrafficOnly"]!.GetValue<bool>());
        Assert.DoesNotContain("PRIVATE KEY", get.Text);
        Assert.Null(ssl.AsObject()["privateKey"]);
        Assert.Equal(securePort, _host.DataPlane.Live[id].SslTermination!.SecurePort);
    }

    [Fact]
    public async Task Put_KeyOfAnotherCertificate_Returns400AndChangesNothing()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var (cert, _) = TestCertificates.ValidAt(ApiHost.StartTime);
        var (_, otherKey) = TestCertificates.ValidAt(ApiHost.StartTime);

        var put = await api.PutAsync($"/loadbalancers/{id}/ssltermination", Body(cert, otherKey, ApiHost.NextPort()));

        Assert.Equal(400, put.Status);
        Assert.Contains(put.Messages, m => m.StartsWith("certificate, privateKey:", StringComparison.Ordinal));
        Assert.Null(_host.DataPlane.Live[id].SslTermination);
        Assert.Equal("""{"sslTermination":{}}""", (await api.GetAsync($"/loadbalancers/{id}/ssltermination")).Text);
    }

    [Fact]
    public async Task Put_ExpiredCertificate_Returns400()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var (cert, key) = TestCertificates.Create(ApiHost.StartTime.AddYears(-2), ApiHost.StartTime.AddDays(-1));

        var put = await api.PutAsync($"/loadbalancers/{id}/ssltermination", Body(cert, key, ApiHost.NextPort()));

        Assert.Equal(400, put.Status);
        Assert.Contains(put.Messages, m => m.StartsWith("certificate: expired on", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Put_SecurePortEqualToPortOrUsedByAnotherLoadBalancer_Returns400()
    {
        var api = _host.NewAccount();
        var port = ApiHost.NextPort();
        var id = await api.CreateLoadBalancerAsync(port: port);
        var otherPort = ApiHost.NextPort();
        await api.CreateLoadBalancerAsync(port: otherPort);
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);

        var same = await api.PutAsync($"/loadbalancers/{id}/ssltermination", Body(cert, key, port));
        var clash = await api.PutAsync($"/loadbalancers/{id}/ssltermination", Body(cert, key, otherPort));

        Assert.Equal(400, same.Status);
        Assert.Contains(same.Messages, m => m.StartsWith("securePort: must differ", StringComparison.Ordinal));
        Assert.Equal(400, clash.Status);
        Assert.Contains(clash.Messages, m => m.Contains("is already used by load balancer", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Put_OnTcpLoadBalancer_Returns400()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync("HTTPS");
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);

        var put = await api.PutAsync($"/loadbalancers/{id}/ssltermination", Body(cert, key, ApiHost.NextPort()));

        Assert.Equal(400, put.Status);
        Assert.Contains(put.Messages, m => m.StartsWith("sslTermination: is only for HTTP load balancers", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Put_OnlyEnabledOnExisting_KeepsCertificate()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        await api.PutAsync($"/loadbalancers/{id}/ssltermination", Body(cert, key, ApiHost.NextPort()));

        var put = await api.PutAsync($"/loadbalancers/{id}/ssltermination", """{"sslTermination":{"secureTrafficOnly":true}}""");

        Assert.Equal(200, put.Status);
        var live = _host.DataPlane.Live[id].SslTermination!;
        Assert.True(live.SecureTrafficOnly);
        Assert.Equal(cert, live.Certificate);
    }

    [Fact]
    public async Task Delete_Configured_Returns200AndRemovesIt_ThenDeleteAgainIs404()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        await api.PutAsync($"/loadbalancers/{id}/ssltermination", Body(cert, key, ApiHost.NextPort()));

        var delete = await api.DeleteAsync($"/loadbalancers/{id}/ssltermination");
        var again = await api.DeleteAsync($"/loadbalancers/{id}/ssltermination");

        Assert.Equal(200, delete.Status);
        Assert.Null(_host.DataPlane.Live[id].SslTermination);
        Assert.Equal(404, again.Status);
    }

    [Fact]
    public async Task UpdateLoadBalancer_ProtocolChangeWithSslTermination_Returns400()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        await api.PutAsync($"/loadbalancers/{id}/ssltermination", Body(cert, key, ApiHost.NextPort()));

        var put = await api.PutAsync($"/loadbalancers/{id}", """{"loadBalancer":{"protocol":"TCP"}}""");

        Assert.Equal(400, put.Status);
        Assert.Contains(put.Messages, m => m.StartsWith("protocol: a load balancer with SSL termination", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HttpsRedirect_WithoutSslTermination_Returns400_WithItReturns202()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var without = await api.PutAsync($"/loadbalancers/{id}", """{"loadBalancer":{"httpsRedirect":true}}""");
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        await api.PutAsync($"/loadbalancers/{id}/ssltermination", Body(cert, key, ApiHost.NextPort()));
        var with = await api.PutAsync($"/loadbalancers/{id}", """{"loadBalancer":{"httpsRedirect":true}}""");

        Assert.Equal(400, without.Status);
        Assert.Equal(202, with.Status);
        Assert.True(_host.DataPlane.Live[id].HttpsRedirect);
    }

    [Fact]
    public async Task Restart_StoredSslTermination_IsRestored()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        await api.PutAsync($"/loadbalancers/{id}/ssltermination", Body(cert, key, ApiHost.NextPort()));

        var stored = _host.Store.LoadAll().Single(c => c.Id == id);

        Assert.Equal(key, stored.SslTermination!.PrivateKey);
        Assert.Equal(cert, stored.SslTermination.Certificate);
    }

    [Fact]
    public async Task Create_WithHttpsRedirect_Returns400()
    {
        var api = _host.NewAccount();

        var create = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(), "\"httpsRedirect\":true"));

        Assert.Equal(400, create.Status);
        Assert.Contains(create.Messages, m => m.StartsWith("httpsRedirect: needs SSL termination", StringComparison.Ordinal));
    }
}

namespace Tether.Management.Tests.Endpoints;

/// <summary>HEADER persistence (issue 13): <c>{"persistenceType":"HEADER","headerName":"X-Session-Id"}</c>, HTTP only,
/// <c>headerName</c> an RFC 9110 token of at most 64 characters and not a hop-by-hop field. Bad input is a 400 with
/// the Rackspace body and changes nothing.</summary>
public sealed class SessionPersistenceHeaderTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    private async Task<(ApiClient Api, int Id)> CreateAsync(string protocol = "HTTP")
    {
        var api = _host.NewAccount();
        return (api, await api.CreateLoadBalancerAsync(protocol));
    }

    private static string Persistence(string fields) => "{\"sessionPersistence\":{" + fields + "}}";

    [Fact]
    public async Task Put_HeaderOnHttp_Returns202AndGetShowsHeaderName()
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence",
            Persistence("\"headerName\":\"X-Session-Id\",\"persistenceType\":\"HEADER\",\"persistenceTimeout\":600"));

        Assert.Equal(202, response.Status);
        Assert.Equal("""{"sessionPersistence":{"persistenceType":"HEADER","persistenceTimeout":600,"headerName":"X-Session-Id"}}""",
            (await api.GetAsync($"/loadbalancers/{id}/sessionpersistence")).Text);
        Assert.Equal("X-Session-Id", _host.DataPlane.Live[id].SessionPersistence!.HeaderName);
        Assert.Equal("X-Session-Id", _host.Store.LoadAll().Single(c => c.Id == id).SessionPersistence!.HeaderName);
    }

    [Fact]
    public async Task Create_WithHeaderPersistence_IsShownOnTheLoadBalancer()
    {
        var api = _host.NewAccount();

        var id = await api.CreateLoadBalancerAsync("HTTP", extra: "\"sessionPersistence\":{\"persistenceType\":\"HEADER\",\"headerName\":\"X-Tenant\"}");

        var persistence = (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!["sessionPersistence"]!;
        Assert.Equal("HEADER", persistence["persistenceType"]!.GetValue<string>());
        Assert.Equal("X-Tenant", persistence["headerName"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("\"persistenceType\":\"HEADER\"", "headerName: is required for HEADER")]
    [InlineData("\"persistenceType\":\"HEADER\",\"headerName\":\"\"", "headerName: must be a field name token")]
    [InlineData("\"persistenceType\":\"HEADER\",\"headerName\":\"X Session\"", "headerName: must be a field name token")]
    [InlineData("\"persistenceType\":\"HEADER\",\"headerName\":\"X-Session:\"", "headerName: must be a field name token")]
    [InlineData("\"persistenceType\":\"HEADER\",\"headerName\":\"X-Séssion\"", "headerName: must be a field name token")]
    [InlineData("\"persistenceType\":\"HEADER\",\"headerName\":\"connection\"", "headerName: must not be a hop-by-hop field")]
    [InlineData("\"persistenceType\":\"HEADER\",\"headerName\":\"Transfer-Encoding\"", "headerName: must not be a hop-by-hop field")]
    [InlineData("\"persistenceType\":\"HEADER\",\"headerName\":7", "headerName: must be a string")]
    [InlineData("\"persistenceType\":\"HEADER\",\"headerName\":\"X-Session-Id\",\"cookieName\":\"a\"", "cookieName: is not allowed for HEADER")]
    [InlineData("\"persistenceType\":\"HEADER\",\"headerName\":\"X-Session-Id\",\"cookieSecure\":true", "cookieSecure: is allowed only for HTTP_COOKIE")]
    [InlineData("\"persistenceType\":\"HTTP_COOKIE\",\"headerName\":\"X-Session-Id\"", "headerName: is allowed only for HEADER")]
    [InlineData("\"persistenceType\":\"SOURCE_IP\",\"headerName\":\"X-Session-Id\"", "headerName: is allowed only for HEADER")]
    public async Task Put_BadHeaderSettings_Returns400AndChangesNothing(string fields, string message)
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence", Persistence(fields));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith(message, StringComparison.Ordinal));
        Assert.Null(_host.Store.LoadAll().Single(c => c.Id == id).SessionPersistence);
    }

    [Fact]
    public async Task Put_HeaderNameOfMaximumLength_IsAcceptedAndOneLonger_Returns400()
    {
        var (api, id) = await CreateAsync();
        var longest = "X-" + new string('a', 62);

        var accepted = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence", Persistence($"\"persistenceType\":\"HEADER\",\"headerName\":\"{longest}\""));
        var refused = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence", Persistence($"\"persistenceType\":\"HEADER\",\"headerName\":\"{longest}b\""));

        Assert.Equal(202, accepted.Status);
        Assert.Equal(400, refused.Status);
        Assert.Contains(refused.Messages, m => m.Contains("1 to 64 characters", StringComparison.Ordinal));
        Assert.Equal(longest, _host.Store.LoadAll().Single(c => c.Id == id).SessionPersistence!.HeaderName);
    }

    [Theory]
    [InlineData("TCP")]
    [InlineData("UDP")]
    [InlineData("HTTPS")]
    public async Task Put_HeaderOnANonHttpLoadBalancer_Returns400(string protocol)
    {
        var (api, id) = await CreateAsync(protocol);

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence",
            Persistence("\"persistenceType\":\"HEADER\",\"headerName\":\"X-Session-Id\""));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("persistenceType: HEADER is supported on HTTP load balancers only", StringComparison.Ordinal));
        Assert.Null(_host.Store.LoadAll().Single(c => c.Id == id).SessionPersistence);
    }
}

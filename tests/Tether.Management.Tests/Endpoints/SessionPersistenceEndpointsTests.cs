namespace Tether.Management.Tests.Endpoints;

public sealed class SessionPersistenceEndpointsTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    private async Task<(ApiClient Api, int Id)> CreateAsync(string protocol = "HTTP", string? extra = null)
    {
        var api = _host.NewAccount();
        return (api, await api.CreateLoadBalancerAsync(protocol, extra: extra));
    }

    private static string Persistence(string fields) => "{\"sessionPersistence\":{" + fields + "}}";

    [Fact]
    public async Task Get_Disabled_ReturnsEmptyObject()
    {
        var (api, id) = await CreateAsync();

        var response = await api.GetAsync($"/loadbalancers/{id}/sessionpersistence");

        Assert.Equal(200, response.Status);
        Assert.Equal("""{"sessionPersistence":{}}""", response.Text);
        Assert.Null((await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!.AsObject()["sessionPersistence"]);
    }

    [Fact]
    public async Task Put_HttpCookieOnHttp_Returns202AndGetShowsOnlyTheFieldsSetWithTypeFirst()
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence",
            Persistence("\"cookieSecure\":true,\"persistenceTimeout\":600,\"persistenceType\":\"HTTP_COOKIE\""));

        Assert.Equal(202, response.Status);
        Assert.Null(response.Body);
        Assert.Equal(
            """{"sessionPersistence":{"persistenceType":"HTTP_COOKIE","persistenceTimeout":600,"cookieSecure":true}}""",
            (await api.GetAsync($"/loadbalancers/{id}/sessionpersistence")).Text);
        var live = _host.DataPlane.Live[id].SessionPersistence!;
        Assert.Equal(600, live.PersistenceTimeoutSeconds);
        Assert.Null(live.CookieName);
    }

    [Fact]
    public async Task Put_EveryHttpCookieField_IsShownInTheDocumentedOrder()
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence", Persistence("""
            "cookieSameSite":"strict","cookieHttpOnly":false,"cookieSecure":true,"cookieDomain":".example.com","cookiePath":"/app",
            "disableFallback":true,"persistenceTimeout":1200,"cookieName":"lbsession","persistenceType":"HTTP_COOKIE"
            """));

        Assert.Equal(202, response.Status);
        Assert.Equal(
            """{"sessionPersistence":{"persistenceType":"HTTP_COOKIE","cookieName":"lbsession","persistenceTimeout":1200,"disableFallback":true,"cookiePath":"/app","cookieDomain":".example.com","cookieSecure":true,"cookieHttpOnly":false,"cookieSameSite":"Strict"}}""",
            (await api.GetAsync($"/loadbalancers/{id}/sessionpersistence")).Text);
    }

    [Fact]
    public async Task Put_WithoutRootKey_IsAccepted()
    {
        var (api, id) = await CreateAsync("TCP");

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence", """{"persistenceType":"SOURCE_IP"}""");

        Assert.Equal(202, response.Status);
        Assert.Equal("""{"sessionPersistence":{"persistenceType":"SOURCE_IP"}}""", (await api.GetAsync($"/loadbalancers/{id}/sessionpersistence")).Text);
    }

    [Fact]
    public async Task Put_ReplacesThePreviousSetting()
    {
        var (api, id) = await CreateAsync();
        await api.PutAsync($"/loadbalancers/{id}/sessionpersistence", Persistence("\"persistenceType\":\"HTTP_COOKIE\",\"cookieName\":\"a\",\"persistenceTimeout\":600"));

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence", Persistence("\"persistenceType\":\"SOURCE_IP\""));

        Assert.Equal(202, response.Status);
        Assert.Equal("""{"sessionPersistence":{"persistenceType":"SOURCE_IP"}}""", (await api.GetAsync($"/loadbalancers/{id}/sessionpersistence")).Text);
    }

    [Theory]
    [InlineData("\"persistenceType\":\"STICKY\"", "persistenceType: must be one of HTTP_COOKIE, APP_COOKIE, SOURCE_IP")]
    [InlineData("\"persistenceType\":\"http_cookie\"", "persistenceType: must be one of")]
    [InlineData("\"cookieName\":\"x\"", "persistenceType: is required")]
    [InlineData("\"persistenceType\":7", "persistenceType: must be a string")]
    public async Task Put_MissingOrUnknownType_Returns400(string fields, string message)
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence", Persistence(fields));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith(message, StringComparison.Ordinal));
        Assert.Null(_host.Store.LoadAll().Single(c => c.Id == id).SessionPersistence);
    }

    [Theory]
    [InlineData("HTTPS", "HTTP_COOKIE")]
    [InlineData("HTTPS", "APP_COOKIE")]
    public async Task Put_CookieTypeOnHttpsPassThrough_Returns400SuggestingSslTermination(string protocol, string type)
    {
        var (api, id) = await CreateAsync(protocol);

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence",
            Persistence($"\"persistenceType\":\"{type}\",\"cookieName\":\"s\""));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith($"persistenceType: {type} is supported on HTTP load balancers only", StringComparison.Ordinal)
            && m.Contains("SSL termination", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("TCP", "HTTP_COOKIE")]
    [InlineData("UDP", "APP_COOKIE")]
    [InlineData("MYSQL", "HTTP_COOKIE")]
    public async Task Put_CookieTypeOnLayer4_Returns400(string protocol, string type)
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync(protocol, ApiHost.NextPort());

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence",
            Persistence($"\"persistenceType\":\"{type}\",\"cookieName\":\"s\""));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith($"persistenceType: {type} is supported on HTTP load balancers only", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("HTTP")]
    [InlineData("HTTPS")]
    [InlineData("TCP")]
    [InlineData("UDP")]
    public async Task Put_SourceIp_IsAcceptedOnEveryProtocol(string protocol)
    {
        var (api, id) = await CreateAsync(protocol);

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence", Persistence("\"persistenceType\":\"SOURCE_IP\""));

        Assert.Equal(202, response.Status);
    }

    [Fact]
    public async Task Put_AppCookieWithoutCookieName_Returns400()
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence", Persistence("\"persistenceType\":\"APP_COOKIE\""));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("cookieName: is required for APP_COOKIE", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("JSESSIONID")]
    [InlineData("*")]
    public async Task Put_AppCookieWithTokenOrStar_Returns202(string name)
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence",
            Persistence($"\"persistenceType\":\"APP_COOKIE\",\"cookieName\":\"{name}\""));

        Assert.Equal(202, response.Status);
        Assert.Equal(name, _host.DataPlane.Live[id].SessionPersistence!.CookieName);
    }

    [Theory]
    [InlineData("APP_COOKIE", "a;b")]
    [InlineData("APP_COOKIE", "a b")]
    [InlineData("APP_COOKIE", "")]
    [InlineData("APP_COOKIE", "a,b")]
    [InlineData("HTTP_COOKIE", "a=b")]
    [InlineData("HTTP_COOKIE", "a/b")]
    public async Task Put_InvalidCookieName_Returns400(string type, string name)
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence",
            Persistence($"\"persistenceType\":\"{type}\",\"cookieName\":\"{name}\""));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("cookieName: must be a cookie name token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Put_SourceIpWithCookieName_Returns400()
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence",
            Persistence("\"persistenceType\":\"SOURCE_IP\",\"cookieName\":\"s\""));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("cookieName: is not allowed for SOURCE_IP", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("HTTP", "HTTP_COOKIE", 60, 202)]
    [InlineData("HTTP", "HTTP_COOKIE", 86400, 202)]
    [InlineData("HTTP", "SOURCE_IP", 86400, 202)]
    [InlineData("HTTP", "HTTP_COOKIE", 59, 400)]
    [InlineData("HTTP", "HTTP_COOKIE", 86401, 400)]
    [InlineData("TCP", "SOURCE_IP", 60, 202)]
    [InlineData("TCP", "SOURCE_IP", 3600, 202)]
    [InlineData("TCP", "SOURCE_IP", 3601, 400)]
    [InlineData("UDP", "SOURCE_IP", 3601, 400)]
    [InlineData("HTTPS", "SOURCE_IP", 3601, 400)]
    [InlineData("TCP", "SOURCE_IP", 59, 400)]
    public async Task Put_PersistenceTimeout_DependsOnTheLayer(string protocol, string type, int timeout, int expected)
    {
        var (api, id) = await CreateAsync(protocol);

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence",
            Persistence($"\"persistenceType\":\"{type}\",\"persistenceTimeout\":{timeout}"));

        Assert.Equal(expected, response.Status);
        if (expected == 400)
        {
            var range = protocol == "HTTP" ? "from 60 to 86400 seconds" : "from 60 to 3600 seconds";
            Assert.Contains(response.Messages, m => m.StartsWith("persistenceTimeout: must be " + range, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("SOURCE_IP", "\"cookiePath\":\"/\"")]
    [InlineData("SOURCE_IP", "\"cookieDomain\":\"example.com\"")]
    [InlineData("SOURCE_IP", "\"cookieSecure\":true")]
    [InlineData("APP_COOKIE", "\"cookieHttpOnly\":true,\"cookieName\":\"s\"")]
    [InlineData("APP_COOKIE", "\"cookieSameSite\":\"Lax\",\"cookieName\":\"s\"")]
    public async Task Put_CookieAttributesForNonHttpCookieType_Returns400(string type, string fields)
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence",
            Persistence($"\"persistenceType\":\"{type}\"," + fields));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.Contains(": is allowed only for HTTP_COOKIE", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("\"cookiePath\":\"app\"", "cookiePath: must start with '/'")]
    [InlineData("\"cookiePath\":\"/a;b\"", "cookiePath: must start with '/'")]
    [InlineData("\"cookiePath\":\"/a\\u0001\"", "cookiePath: must start with '/'")]
    [InlineData("\"cookieDomain\":\"exa mple.com\"", "cookieDomain: must be a host name")]
    [InlineData("\"cookieDomain\":\"example.com;x\"", "cookieDomain: must be a host name")]
    [InlineData("\"cookieSameSite\":\"Sometimes\"", "cookieSameSite: must be Lax, Strict or None")]
    [InlineData("\"cookieSameSite\":\"None\"", "cookieSameSite: None requires cookieSecure: true")]
    [InlineData("\"cookieSameSite\":\"None\",\"cookieSecure\":false", "cookieSameSite: None requires cookieSecure: true")]
    [InlineData("\"cookieSecure\":\"yes\"", "cookieSecure: must be true or false")]
    [InlineData("\"disableFallback\":1", "disableFallback: must be true or false")]
    public async Task Put_InvalidCookieAttribute_Returns400NamingIt(string fields, string message)
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence",
            Persistence("\"persistenceType\":\"HTTP_COOKIE\"," + fields));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith(message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Put_SameSiteNoneWithSecure_Returns202()
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence",
            Persistence("\"persistenceType\":\"HTTP_COOKIE\",\"cookieSameSite\":\"None\",\"cookieSecure\":true"));

        Assert.Equal(202, response.Status);
    }

    [Fact]
    public async Task Put_ManyErrors_ReportsThemAllAtOnce()
    {
        var (api, id) = await CreateAsync("TCP");

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence", Persistence(
            "\"persistenceType\":\"SOURCE_IP\",\"cookieName\":\"x\",\"persistenceTimeout\":5,\"cookiePath\":\"/\""));

        Assert.Equal(400, response.Status);
        Assert.Equal(3, response.Messages.Count);
    }

    [Fact]
    public async Task Delete_Enabled_Returns202AndDisablesIt()
    {
        var (api, id) = await CreateAsync(extra: "\"sessionPersistence\":{\"persistenceType\":\"HTTP_COOKIE\"}");

        var response = await api.DeleteAsync($"/loadbalancers/{id}/sessionpersistence");

        Assert.Equal(202, response.Status);
        Assert.Equal("""{"sessionPersistence":{}}""", (await api.GetAsync($"/loadbalancers/{id}/sessionpersistence")).Text);
        Assert.Null(_host.DataPlane.Live[id].SessionPersistence);
        Assert.Null(_host.Store.LoadAll().Single(c => c.Id == id).SessionPersistence);
    }

    [Fact]
    public async Task Delete_AlreadyDisabled_Returns422()
    {
        var (api, id) = await CreateAsync();

        var response = await api.DeleteAsync($"/loadbalancers/{id}/sessionpersistence");

        Assert.Equal(422, response.Status);
        Assert.Equal(422, response.Body!["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task Create_CookiePersistenceOnTcp_Returns400()
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("TCP", ApiHost.NextPort(),
            "\"sessionPersistence\":{\"persistenceType\":\"HTTP_COOKIE\",\"persistenceTimeout\":5}"));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("sessionPersistence.persistenceType: HTTP_COOKIE is supported on HTTP load balancers only", StringComparison.Ordinal));
        Assert.Contains(response.Messages, m => m.StartsWith("sessionPersistence.persistenceTimeout: must be from 60 to 3600", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"protocol":"TCP"}""")]
    [InlineData("""{"port":PORT}""")]
    public async Task UpdateLoadBalancer_ProtocolOrPortChange_DisablesPersistence(string body)
    {
        var (api, id) = await CreateAsync(extra: "\"sessionPersistence\":{\"persistenceType\":\"SOURCE_IP\"}");

        var response = await api.PutAsync($"/loadbalancers/{id}", body.Replace("PORT", ApiHost.NextPort().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));

        Assert.Equal(202, response.Status);
        Assert.Equal("""{"sessionPersistence":{}}""", (await api.GetAsync($"/loadbalancers/{id}/sessionpersistence")).Text);
        Assert.Null(_host.DataPlane.Live[id].SessionPersistence);
        Assert.Null(_host.Store.LoadAll().Single(c => c.Id == id).SessionPersistence);
    }

    [Fact]
    public async Task UpdateLoadBalancer_SameProtocolAndPortOrOtherFields_KeepsPersistence()
    {
        var api = _host.NewAccount();
        var port = ApiHost.NextPort();
        var id = await api.CreateLoadBalancerAsync(port: port, extra: "\"sessionPersistence\":{\"persistenceType\":\"SOURCE_IP\"}");

        var response = await api.PutAsync($"/loadbalancers/{id}", $$"""{"name":"x","protocol":"HTTP","port":{{port}},"timeout":9}""");

        Assert.Equal(202, response.Status);
        Assert.Equal("""{"sessionPersistence":{"persistenceType":"SOURCE_IP"}}""", (await api.GetAsync($"/loadbalancers/{id}/sessionpersistence")).Text);
    }

    [Fact]
    public async Task Put_MalformedJson_Returns400()
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence", "{\"sessionPersistence\":");

        Assert.Equal(400, response.Status);
    }

    [Fact]
    public async Task Put_UnknownLoadBalancer_Returns404()
    {
        var response = await _host.NewAccount().PutAsync("/loadbalancers/999999/sessionpersistence", Persistence("\"persistenceType\":\"SOURCE_IP\""));

        Assert.Equal(404, response.Status);
    }
}

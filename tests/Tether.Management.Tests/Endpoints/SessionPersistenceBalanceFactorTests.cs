namespace Tether.Management.Tests.Endpoints;

/// <summary><c>hashBalanceFactor</c> (issue 13: bounded-load consistent hashing): percent, 0 (off) or 101 to 1000,
/// only for SOURCE_IP and HEADER. Bad input is a 400 with the Rackspace body and changes nothing.</summary>
public sealed class SessionPersistenceBalanceFactorTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    private static string Persistence(string fields) => "{\"sessionPersistence\":{" + fields + "}}";

    [Theory]
    [InlineData("HTTP", "\"persistenceType\":\"SOURCE_IP\",\"hashBalanceFactor\":125", """{"sessionPersistence":{"persistenceType":"SOURCE_IP","hashBalanceFactor":125}}""")]
    [InlineData("TCP", "\"persistenceType\":\"SOURCE_IP\",\"hashBalanceFactor\":1000", """{"sessionPersistence":{"persistenceType":"SOURCE_IP","hashBalanceFactor":1000}}""")]
    [InlineData("HTTP", "\"persistenceType\":\"HEADER\",\"headerName\":\"X-Id\",\"hashBalanceFactor\":101", """{"sessionPersistence":{"persistenceType":"HEADER","headerName":"X-Id","hashBalanceFactor":101}}""")]
    [InlineData("HTTP", "\"persistenceType\":\"SOURCE_IP\",\"hashBalanceFactor\":0", """{"sessionPersistence":{"persistenceType":"SOURCE_IP","hashBalanceFactor":0}}""")]
    public async Task Put_ValidFactor_Returns202AndIsShownAndStored(string protocol, string fields, string shown)
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync(protocol);

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence", Persistence(fields));

        Assert.Equal(202, response.Status);
        Assert.Equal(shown, (await api.GetAsync($"/loadbalancers/{id}/sessionpersistence")).Text);
        Assert.NotNull(_host.Store.LoadAll().Single(c => c.Id == id).SessionPersistence!.HashBalanceFactor);
    }

    [Theory]
    [InlineData("\"persistenceType\":\"SOURCE_IP\",\"hashBalanceFactor\":100", "hashBalanceFactor: must be 0 (off) or from 101 to 1000 percent (got 100)")]
    [InlineData("\"persistenceType\":\"SOURCE_IP\",\"hashBalanceFactor\":1001", "hashBalanceFactor: must be 0 (off) or from 101 to 1000 percent (got 1001)")]
    [InlineData("\"persistenceType\":\"SOURCE_IP\",\"hashBalanceFactor\":-5", "hashBalanceFactor: must be 0 (off) or from 101 to 1000 percent (got -5)")]
    [InlineData("\"persistenceType\":\"SOURCE_IP\",\"hashBalanceFactor\":\"125\"", "hashBalanceFactor: must be")]
    [InlineData("\"persistenceType\":\"HTTP_COOKIE\",\"hashBalanceFactor\":125", "hashBalanceFactor: is allowed only for SOURCE_IP and HEADER")]
    [InlineData("\"persistenceType\":\"APP_COOKIE\",\"cookieName\":\"S\",\"hashBalanceFactor\":125", "hashBalanceFactor: is allowed only for SOURCE_IP and HEADER")]
    public async Task Put_BadFactor_Returns400AndChangesNothing(string fields, string message)
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence", Persistence(fields));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith(message, StringComparison.Ordinal));
        Assert.Null(_host.Store.LoadAll().Single(c => c.Id == id).SessionPersistence);
    }
}

using System.Globalization;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Cli;

/// <summary><c>tether persistence show|enable|disable</c> against a running Tether, checked with a real HTTP client.</summary>
public sealed class PersistenceCommandTests
{
    [Fact]
    public async Task PersistenceEnableThenDisable_HttpCookie_RequestsStickThenSpreadAgain()
    {
        await using var cli = await CliTether.StartAsync();
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        var (id, port) = await cli.CreateLoadBalancerAsync([b1, b2]);
        var lb = id.ToString(CultureInfo.InvariantCulture);

        var before = await cli.RunAsync("persistence", "show", lb);
        var enabled = await cli.RunAsync("persistence", "enable", lb, "--type", "HTTP_COOKIE", "--timeout", "600", "--wait");
        using var browser = Clients.WithCookieJar(port, out _);
        var sticky = await Clients.SpreadAsync(browser, 6);
        var shown = await cli.JsonAsync("persistence", "show", lb);
        var disabled = await cli.RunAsync("persistence", "disable", lb);
        var spread = await Clients.SpreadAsync(browser, 6);
        var twice = await cli.RunAsync("persistence", "disable", lb);

        Assert.Matches(@"│ persistenceType │ \(disabled\) │", before.Output);
        Assert.Equal(0, enabled.Code);
        Assert.Equal($"session persistence HTTP_COOKIE enabled on load balancer {lb}\nload balancer {lb} is ACTIVE\n", enabled.Error);
        Assert.Matches(@"│ persistenceType\s+│ HTTP_COOKIE │", enabled.Output);
        Assert.Matches(@"│ persistenceTimeout\s+│ 600\s+│", enabled.Output);
        Assert.Equal(6, Assert.Single(sticky).Value);
        Assert.Equal("HTTP_COOKIE", shown["sessionPersistence"]!["persistenceType"]!.GetValue<string>());
        Assert.Equal(0, disabled.Code);
        Assert.Equal(2, spread.Count);
        Assert.Equal(1, twice.Code);
        Assert.Equal($"tether persistence disable: Session persistence is already disabled on Load Balancer '{lb}'. (422)\n", twice.Error);
    }

    [Fact]
    public async Task PersistenceEnable_RulesBroken_PrintsEveryApiMessageAndChangesNothing()
    {
        await using var cli = await CliTether.StartAsync();
        await using var b1 = await TestBackend.StartAsync("b1");
        var (id, _) = await cli.CreateLoadBalancerAsync([b1]);
        var lb = id.ToString(CultureInfo.InvariantCulture);

        var result = await cli.RunAsync("persistence", "enable", lb, "--type", "SOURCE_IP", "--cookie-name", "x", "--timeout", "30", "--cookie-secure", "true");

        Assert.Equal(1, result.Code);
        Assert.Equal(
            "tether persistence enable: Validation Failure (400): The object is not valid\n" +
            "  cookieName: is not allowed for SOURCE_IP (only for HTTP_COOKIE and APP_COOKIE)\n" +
            "  persistenceTimeout: must be from 60 to 86400 seconds (1 to 1440 minutes) on an HTTP load balancer (got 30)\n" +
            "  cookieSecure: is allowed only for HTTP_COOKIE (Tether sets no cookie attributes for SOURCE_IP)\n",
            result.Error);
        Assert.Empty((await cli.Tether.GetJsonAsync($"loadbalancers/{lb}/sessionpersistence"))["sessionPersistence"]!.AsObject());
    }
}

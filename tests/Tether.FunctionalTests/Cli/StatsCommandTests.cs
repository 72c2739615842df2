using System.Globalization;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Cli;

/// <summary><c>tether stats ID</c> against a running Tether after real requests.</summary>
public sealed class StatsCommandTests
{
    [Fact]
    public async Task Stats_AfterRequests_ShowsCountersPersistenceAndEachNodesShare()
    {
        await using var cli = await CliTether.StartAsync();
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        var (id, port) = await cli.CreateLoadBalancerAsync([b1, b2]);
        var lb = id.ToString(CultureInfo.InvariantCulture);
        using var client = Clients.WithoutCookies(port);
        await Clients.SpreadAsync(client, 4);
        await cli.Tether.StatsWhenIdleAsync(id);

        var table = await cli.RunAsync("stats", lb);
        var json = await cli.JsonAsync("stats", lb);

        Assert.Equal(0, table.Code);
        Assert.Matches(@"│ connectFailure\s+│ 0\s+│", table.Output);
        Assert.Matches(@"│ miss\s+│ 4\s+│", table.Output);
        Assert.Matches(@"│ \d+\s+│ 2\s+│ 0\s+│ 0\s+│ 0\.5\s+│ 0\.5\s+│", table.Output);
        Assert.Equal(4, json["persistence"]!["miss"]!.GetValue<int>());
        Assert.Equal(2, json["nodes"]!.AsArray().Count);
    }
}

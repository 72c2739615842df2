using System.Globalization;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Cli;

/// <summary><c>tether monitor show|set|delete</c> against a running Tether whose probes reach a real backend.</summary>
public sealed class MonitorCommandTests
{
    [Fact]
    public async Task MonitorSetShowDelete_HttpMonitor_ProbesTheNodeAndIsRemovedAgain()
    {
        await using var cli = await CliTether.StartAsync();
        await using var b1 = await TestBackend.StartAsync("b1");
        var (id, _) = await cli.CreateLoadBalancerAsync([b1]);
        var lb = id.ToString(CultureInfo.InvariantCulture);

        var set = await cli.RunAsync("monitor", "set", lb, "--type", "HTTP", "--delay", "1", "--timeout", "1", "--attempts", "2", "--path", "/health", "--wait");
        for (var i = 0; i < 100 && b1.HealthChecks == 0; i++)
        {
            await Task.Delay(100);
        }

        var shown = await cli.JsonAsync("monitor", "show", lb);
        var deleted = await cli.RunAsync("monitor", "delete", lb);
        var again = await cli.RunAsync("monitor", "delete", lb);

        Assert.Equal(0, set.Code);
        Assert.Matches(@"│ attemptsBeforeDeactivation │ 2\s+│", set.Output);
        Assert.Matches(@"│ path\s+│ /health\s+│", set.Output);
        Assert.True(b1.HealthChecks > 0, "the monitor set through the CLI probes the node");
        Assert.Equal("/health", shown["healthMonitor"]!["path"]!.GetValue<string>());
        Assert.Equal(0, deleted.Code);
        Assert.Matches(@"│ type  │ \(none\) │", deleted.Output);
        Assert.Equal(1, again.Code);
        Assert.StartsWith("tether monitor delete: ", again.Error, StringComparison.Ordinal);
        Assert.Contains("(422)", again.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MonitorSet_ConnectWithPathAndNoDelay_PrintsEveryApiMessageAndExits1()
    {
        await using var cli = await CliTether.StartAsync();
        await using var b1 = await TestBackend.StartAsync("b1");
        var (id, _) = await cli.CreateLoadBalancerAsync([b1]);

        var result = await cli.RunAsync("monitor", "set", id.ToString(CultureInfo.InvariantCulture), "--type", "CONNECT", "--path", "/");

        Assert.Equal(1, result.Code);
        Assert.Equal(
            "tether monitor set: Validation Failure (400): The object is not valid\n" +
            "  delay: is required (1 to 3600 seconds)\n" +
            "  timeout: is required (1 to 300 seconds)\n" +
            "  attemptsBeforeDeactivation: is required (1 to 10)\n" +
            "  path: is allowed only for HTTP and HTTPS monitors (a CONNECT monitor only opens a TCP connection)\n",
            result.Error);
    }
}

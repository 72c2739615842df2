using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Tether.Cli;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Cli;

/// <summary><c>--wait</c> on a load balancer that does not become ACTIVE: one in ERROR after a restart whose port was
/// taken (docs/operations.md#error-status), against a real Tether.</summary>
public sealed class WaiterTests
{
    [Fact]
    public async Task Wait_LoadBalancerInError_EndsWithWaitExceptionNamingIt()
    {
        var dataDirectory = TetherCli.TempPath("tether-cli-wait-");
        int id;
        int port;
        await using (var first = await TetherInstance.StartAsync(dataDirectory))
        {
            await using var b1 = await TestBackend.StartAsync("b1");
            (id, port) = await first.CreateLoadBalancerAsync("ROUND_ROBIN", [b1]);
        }

        var taken = new TcpListener(IPAddress.Loopback, port);
        taken.Start();
        try
        {
            await using var tether = await TetherInstance.StartAsync(dataDirectory);
            var token = (await File.ReadAllTextAsync(Path.Combine(dataDirectory, "admin-token"))).Trim();
            using var api = new ApiClient(new Uri(tether.Api.BaseAddress!.GetLeftPart(UriPartial.Authority) + "/"), 1, token);
            var command = CliOptions.WithWait(new Command("x"));
            var wait = command.Parse("--wait --wait-timeout 5");
            var noWait = command.Parse("");

            var error = await Assert.ThrowsAsync<WaitException>(() => Waiter.IfAskedAsync(wait, api, id, gone: false, CancellationToken.None));
            await Waiter.IfAskedAsync(noWait, api, id, gone: false, CancellationToken.None);

            Assert.Equal($"load balancer {id} is in ERROR (see GET /loadbalancers/{id} and the server log)", error.Message);
        }
        finally
        {
            taken.Stop();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }
}

using System.Diagnostics;
using System.Net;
using System.Text;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests;

/// <summary>The real executable as the README runs it: <c>tether serve</c> in its own process, stopped with SIGINT
/// (Ctrl-C), and graceful shutdown of in-flight requests.</summary>
public sealed class ServeCommandTests
{
    [Fact]
    public async Task Serve_FreshDataDirectory_CreatesTokenServesApiAndStopsOnSigint()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "tether-serve-" + Guid.NewGuid().ToString("N"));
        var apiPort = FreePort.Next();
        await using var backend = await TestBackend.StartAsync("b1");
        var lbPort = FreePort.Next();
        using var process = StartServe(dataDirectory, apiPort);
        try
        {
            var tokenFile = Path.Combine(dataDirectory, "admin-token");
            using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{apiPort}/v1.0/1/") };
            await WaitUntilAsync(async () =>
            {
                try
                {
                    return File.Exists(tokenFile) && (await api.GetAsync("loadbalancers")).StatusCode == HttpStatusCode.Unauthorized;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            });

            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));
            }
            api.DefaultRequestHeaders.Add("X-Auth-Token", (await File.ReadAllTextAsync(tokenFile)).Trim());
            var create = await api.PostAsync("loadbalancers", new StringContent(
                $$$"""{"loadBalancer":{"name":"web","protocol":"HTTP","port":{{{lbPort}}},"virtualIps":[{"type":"SERVICENET"}],"nodes":[{"address":"127.0.0.1","port":{{{backend.Port}}},"condition":"ENABLED"}]}}""",
                Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Accepted, create.StatusCode);
            using var client = Clients.WithoutCookies(lbPort);
            Assert.Equal("b1", await client.GetStringAsync("/"));

            var slow = client.GetAsync("/slow?ms=1500");
            await Task.Delay(300);
            Signal(process, "INT");

            using var response = await slow;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(20)), "tether serve did not stop on SIGINT");
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Stop_WithRequestInFlight_RequestCompletes()
    {
        var tether = await TetherInstance.StartAsync();
        await using var backend = await TestBackend.StartAsync("b1");
        var (_, port) = await tether.CreateLoadBalancerAsync("RANDOM", [backend]);
        using var client = Clients.WithoutCookies(port);

        var slow = client.GetAsync("/slow?ms=1500");
        await Task.Delay(300);
        var stopping = tether.DisposeAsync().AsTask();
        using var response = await slow;
        await stopping;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("b1", await response.Content.ReadAsStringAsync());
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStringAsync("/"));
    }

    private static Process StartServe(string dataDirectory, int apiPort)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "tether.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { dll, "serve", "--data-dir", dataDirectory, "--listen", $"http://127.0.0.1:{apiPort}" })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Signal(Process process, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("tether serve did not come up within 30 s");
    }
}

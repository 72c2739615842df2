using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using Tether.FunctionalTests.Infrastructure;
using Tether.Proxy;

namespace Tether.FunctionalTests;

/// <summary><c>tether token</c> and <c>tether keys</c> as an operator runs them, against a running Tether on the same
/// data directory.</summary>
public sealed class AdminCommandTests
{
    [Fact]
    public async Task TokenCreate_WhileServing_WorksAtOnceAndRevokeRefusesIt()
    {
        await using var tether = await TetherInstance.StartAsync();

        var (code, output) = await RunAsync("token", "create", "--account", "5", "--data-dir", tether.DataDirectory);
        var token = output.Trim();
        using var api = new HttpClient { BaseAddress = new Uri(tether.Api.BaseAddress!, "/v1.0/5/") };
        api.DefaultRequestHeaders.Add("X-Auth-Token", token);
        var allowed = (await api.GetAsync("loadbalancers")).StatusCode;
        var (revokeCode, _) = await RunAsync("token", "revoke", token, "--data-dir", tether.DataDirectory);
        var refused = (await api.GetAsync("loadbalancers")).StatusCode;

        Assert.Equal(0, code);
        Assert.Equal(43, token.Length);
        Assert.Equal(HttpStatusCode.OK, allowed);
        Assert.Equal(0, revokeCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused);
    }

    [Fact]
    public async Task KeysRotate_WhileServing_NewCookiesUseTheNewKeyAndOldCookiesStillPin()
    {
        await using var tether = await TetherInstance.StartAsync(proxyOptions: new ProxyOptions { PurgeIntervalSeconds = 1, ShutdownTimeoutSeconds = 5 });
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        var (_, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", [b1, b2], """{"persistenceType":"HTTP_COOKIE"}""");
        using var client = Clients.WithoutCookies(port);
        using var first = await client.GetAsync("/");
        var oldCookie = first.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
        var pinned = await first.Content.ReadAsStringAsync();

        var (code, output) = await RunAsync("keys", "rotate", "--data-dir", tether.DataDirectory);
        byte keyId = 0;
        for (var i = 0; i < 50 && keyId != 2; i++)
        {
            await Task.Delay(200);
            using var fresh = await client.GetAsync("/");
            keyId = Base64Url.DecodeFromChars(fresh.Headers.GetValues("Set-Cookie").Single().Split(';')[0].Split('=', 2)[1])[1];
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("Cookie", oldCookie);
        using var withOld = await client.SendAsync(request);

        Assert.Equal(0, code);
        Assert.StartsWith("key 2 now signs new cookies", output);
        Assert.Equal(2, keyId);
        Assert.Equal(pinned, await withOld.Content.ReadAsStringAsync());
        Assert.False(withOld.Headers.Contains("Set-Cookie"), "a cookie signed with the older key is still valid");
    }

    private static async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tether.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}

using System.Buffers.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
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
    public async Task TokenCreate_RoleObserver_ListedWithItsRoleAndRefusedWrites()
    {
        await using var tether = await TetherInstance.StartAsync();

        var (code, output) = await RunAsync("token", "create", "--account", "6", "--role", "observer", "--data-dir", tether.DataDirectory);
        var token = output.Trim();
        var (_, list) = await RunAsync("token", "list", "--data-dir", tether.DataDirectory);
        using var api = new HttpClient { BaseAddress = new Uri(tether.Api.BaseAddress!, "/v1.0/6/") };
        api.DefaultRequestHeaders.Add("X-Auth-Token", token);
        using var read = await api.GetAsync("loadbalancers");
        using var write = await api.PostAsync("loadbalancers", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        var refusal = await write.Content.ReadAsStringAsync();
        var (badCode, _) = await RunAsync("token", "create", "--account", "6", "--role", "root", "--data-dir", tether.DataDirectory);

        Assert.Equal(0, code);
        Assert.Contains($"{Tether.Management.Auth.TokenId.Of(token)}  6        observer", list, StringComparison.Ordinal);
        Assert.StartsWith("ID            ACCOUNT  ROLE", list, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        Assert.Contains("You are forbidden to perform the operation", refusal, StringComparison.Ordinal);
        Assert.Equal(2, badCode);
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

    [Theory]
    [InlineData("token", "create", "--account", "2")]
    [InlineData("token", "list")]
    [InlineData("token", "revoke", "abc")]
    [InlineData("keys", "rotate")]
    [InlineData("keys", "list")]
    public async Task AdminCommand_NoDataDirectory_RefusesWithExitCode2AndCreatesNothing(params string[] args)
    {
        var dataDirectory = TetherCli.TempPath("tether-admin-");

        var result = await TetherCli.RunAsync([.. args, "--data-dir", dataDirectory]);

        Assert.Equal(2, result.Code);
        Assert.Equal("", result.Output);
        Assert.StartsWith($"tether {args[0]} {args[1]}: no data directory at {dataDirectory}; give --data-dir with the data directory of your tether serve", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dataDirectory));
    }

    [Fact]
    public async Task TokenCreate_DirectoryWithoutStore_Refuses()
    {
        var dataDirectory = TetherCli.TempPath("tether-admin-");
        Directory.CreateDirectory(dataDirectory);

        var result = await TetherCli.RunAsync(["token", "create", "--account", "2", "--data-dir", dataDirectory]);

        Assert.Equal(2, result.Code);
        Assert.StartsWith($"tether token create: {dataDirectory} holds no Tether store (tether.db); give --data-dir with the data directory of your tether serve, or --init to create a new one there", result.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(dataDirectory));
    }

    [Fact]
    public async Task TokenCreate_WithInit_CreatesThePrivateDataDirectoryAndTheServerAcceptsTheToken()
    {
        var dataDirectory = TetherCli.TempPath("tether-admin-");

        var result = await TetherCli.RunAsync(["token", "create", "--account", "3", "--init", "--data-dir", dataDirectory]);
        var token = result.Output.Trim();
        await using var tether = await TetherInstanceWithoutAdminToken(dataDirectory);
        using var api = new HttpClient { BaseAddress = new Uri(tether.Address + "/v1.0/3/") };
        api.DefaultRequestHeaders.Add("X-Auth-Token", token);

        Assert.Equal(0, result.Code);
        Assert.StartsWith($"tether token create: data directory {dataDirectory} (created)\n", result.Error, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("loadbalancers")).StatusCode);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dataDirectory));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dataDirectory, "tether.db")));
        }
    }

    [Fact]
    public async Task TokenRevoke_ByTheIdTokenListShows_RevokesThatTokenOnly()
    {
        await using var tether = await TetherInstance.StartAsync();
        var first = (await TetherCli.RunAsync(["token", "create", "--account", "5", "--data-dir", tether.DataDirectory])).Output.Trim();
        var second = (await TetherCli.RunAsync(["token", "create", "--account", "6", "--data-dir", tether.DataDirectory])).Output.Trim();

        var list = await TetherCli.RunAsync(["token", "list", "--data-dir", tether.DataDirectory]);
        var rows = list.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(r => r.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        var id = rows.Single(r => r[1] == "5")[0];
        var revoke = await TetherCli.RunAsync(["token", "revoke", id, "--data-dir", tether.DataDirectory]);
        var again = await TetherCli.RunAsync(["token", "revoke", id, "--data-dir", tether.DataDirectory]);

        Assert.Equal($"tether token list: data directory {tether.DataDirectory}\n", list.Error);
        Assert.Equal(3, rows.Count);
        Assert.DoesNotContain(first, list.Output, StringComparison.Ordinal);
        Assert.Equal(0, revoke.Code);
        Assert.Equal($"revoked token {id}\n", revoke.Output);
        Assert.Equal(1, again.Code);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(tether, 5, first));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(tether, 6, second));
    }

    private static async Task<HttpStatusCode> StatusAsync(TetherInstance tether, int account, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(tether.Api.BaseAddress!, $"/v1.0/{account}/loadbalancers"));
        request.Headers.Add("X-Auth-Token", token);
        using var response = await tether.Api.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<(string Address, IAsyncDisposable App)> TetherInstanceWithoutAdminTokenCore(string dataDirectory)
    {
        var settings = new TetherSettings { DataDirectory = dataDirectory, ManagementUrl = "http://127.0.0.1:0", PublicAddress = "127.0.0.1", PrivateAddress = "127.0.0.1" };
        var app = TetherHost.Build(settings, new ProxyOptions { ShutdownTimeoutSeconds = 5 });
        await TetherHost.StartAsync(app);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return (address, app);
    }

    private static async Task<RunningTether> TetherInstanceWithoutAdminToken(string dataDirectory)
    {
        var (address, app) = await TetherInstanceWithoutAdminTokenCore(dataDirectory);
        return new RunningTether(address, app);
    }

    private sealed record RunningTether(string Address, IAsyncDisposable App) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    private static async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        var result = await TetherCli.RunAsync(args);
        return (result.Code, result.Output);
    }
}

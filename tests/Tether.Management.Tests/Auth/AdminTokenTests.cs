using Microsoft.Extensions.Logging;

namespace Tether.Management.Tests.Auth;

public sealed class AdminTokenTests
{
    [Fact]
    public async Task FirstStart_NoTokenConfiguredOrStored_CreatesAdminTokenFileWithMode0600()
    {
        using var directory = new TempDirectory();
        await using var host = await ApiHost.StartAsync(directory.Path);

        var path = Path.Combine(directory.Path, "admin-token");
        Assert.True(File.Exists(path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        var token = (await File.ReadAllTextAsync(path)).Trim();
        Assert.Equal(43, token.Length); // 32 bytes, base64url without padding
        Assert.Equal(200, (await host.Client(1, token).GetAsync("/loadbalancers")).Status);
        Assert.Equal(401, (await host.Client(2, token).GetAsync("/loadbalancers")).Status);

        var warning = Assert.Single(host.Logs.Messages, m => m.Level == LogLevel.Warning && m.Message.Contains(path, StringComparison.Ordinal));
        Assert.DoesNotContain(token, warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecondStart_TokenAlreadyStored_KeepsTheSameToken()
    {
        using var directory = new TempDirectory();
        await using (await ApiHost.StartAsync(directory.Path))
        {
        }

        var path = Path.Combine(directory.Path, "admin-token");
        var first = await File.ReadAllTextAsync(path);
        await using var host = await ApiHost.StartAsync(directory.Path);

        Assert.Equal(first, await File.ReadAllTextAsync(path));
        Assert.Single(host.Store.ListTokens());
        Assert.Equal(200, (await host.Client(1, first.Trim()).GetAsync("/loadbalancers")).Status);
        Assert.Equal(Tether.Management.Auth.TokenRole.Admin, Assert.Single(host.Store.ListTokenGrants()).Grant.Role);
    }

    [Fact]
    public async Task FirstStart_TokenConfigured_CreatesNoAdminTokenAndAcceptsTheConfiguredOne()
    {
        using var directory = new TempDirectory();
        await using var host = await ApiHost.StartAsync(directory.Path,
            o => o.Tokens.Add(new ManagementToken { Token = "configured", AccountId = 7 }));

        Assert.False(File.Exists(Path.Combine(directory.Path, "admin-token")));
        Assert.Empty(host.Store.ListTokens());
        Assert.Equal(200, (await host.Client(7, "configured").GetAsync("/loadbalancers")).Status);
        Assert.Equal(401, (await host.Client(1, "configured").GetAsync("/loadbalancers")).Status);
    }
}

using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Cli;

/// <summary>Where the CLI finds the API, the token and the account, and its exit codes when they are wrong.</summary>
public sealed class CliOptionsTests
{
    [Fact]
    public async Task TokenOption_WinsOverTetherToken_AndAWrongOneIsTheApis401WithExitCode1()
    {
        await using var cli = await CliTether.StartAsync();
        var env = new Dictionary<string, string> { ["TETHER_API"] = cli.ApiRoot, ["TETHER_TOKEN"] = "wrong" };

        var refused = await TetherCli.RunAsync(["lb", "list"], env);
        var given = await TetherCli.RunAsync(["lb", "list", "--token", cli.Token], env);
        var json = await TetherCli.RunAsync(["lb", "list", "-o", "json"], env);

        Assert.Equal(1, refused.Code);
        Assert.Equal("tether lb list: No valid token provided (401)\n", refused.Error);
        Assert.Equal(0, given.Code);
        Assert.Equal(1, json.Code);
        Assert.Equal("{\"message\":\"No valid token provided\",\"code\":401}\n", json.Error);
    }

    [Fact]
    public async Task Account_OfAnotherAccountsToken_SaysSoAndAccountOptionFixesIt()
    {
        await using var cli = await CliTether.StartAsync();
        var created = await TetherCli.RunAsync(["token", "create", "--account", "7", "--data-dir", cli.Tether.DataDirectory]);
        var token = created.Output.Trim();
        var env = new Dictionary<string, string> { ["TETHER_API"] = cli.ApiRoot, ["TETHER_TOKEN"] = token };

        var wrong = await TetherCli.RunAsync(["lb", "list"], env);
        var right = await TetherCli.RunAsync(["lb", "list", "--account", "7"], env);
        var fromEnv = await TetherCli.RunAsync(["lb", "list"], new Dictionary<string, string>(env) { ["TETHER_ACCOUNT"] = "7" });
        var fromUrl = await TetherCli.RunAsync(["lb", "list", "--api", cli.ApiRoot + "/v1.0/7"], env);

        Assert.Equal(1, wrong.Code);
        Assert.Equal(
            "tether lb list: No valid token provided (401): The token does not belong to account 1.\n" +
            "  (the token is of another account: give --account or TETHER_ACCOUNT)\n",
            wrong.Error);
        Assert.Equal(0, right.Code);
        Assert.Equal(0, fromEnv.Code);
        Assert.Equal(0, fromUrl.Code);
    }

    [Fact]
    public async Task Api_NothingListening_Exits1NamingTheAddress()
    {
        var port = FreePort.Next();

        var result = await TetherCli.RunAsync(["lb", "list", "--api", $"http://127.0.0.1:{port}", "--token", "t"]);

        Assert.Equal(1, result.Code);
        Assert.StartsWith($"tether lb list: cannot reach the API at http://127.0.0.1:{port}: ", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("lb", "list", "--api", "ftp://x", "--token", "t")]
    [InlineData("lb", "list", "--api", "http://127.0.0.1:1")]
    [InlineData("lb", "list", "--account", "0", "--token", "t")]
    public async Task Options_Unusable_Exit2(params string[] args)
    {
        var home = TetherCli.TempPath("tether-cli-empty-");
        Directory.CreateDirectory(home);
        try
        {
            var result = await TetherCli.RunAsync(args, workingDirectory: home);

            Assert.Equal(2, result.Code);
            Assert.StartsWith("tether lb list: ", result.Error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}

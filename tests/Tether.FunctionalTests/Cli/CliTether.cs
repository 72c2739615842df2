using System.Text.Json.Nodes;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Cli;

/// <summary>A running Tether (in process, the real host on an ephemeral port) and the real <c>tether</c> CLI pointed
/// at it through <c>TETHER_API</c> and <c>TETHER_TOKEN</c>, as an operator's shell would be.</summary>
public sealed class CliTether : IAsyncDisposable
{
    private CliTether(TetherInstance tether, string api, string token)
    {
        Tether = tether;
        ApiRoot = api;
        Token = token;
    }

    public TetherInstance Tether { get; }

    /// <summary><c>http://127.0.0.1:PORT</c>.</summary>
    public string ApiRoot { get; }

    /// <summary>The admin token of its data directory.</summary>
    public string Token { get; }

    public static async Task<CliTether> StartAsync()
    {
        var tether = await TetherInstance.StartAsync();
        var token = (await File.ReadAllTextAsync(Path.Combine(tether.DataDirectory, "admin-token"))).Trim();
        return new CliTether(tether, tether.Api.BaseAddress!.GetLeftPart(UriPartial.Authority), token);
    }

    /// <summary>Runs <c>tether ARGS</c> with <c>TETHER_API</c> and <c>TETHER_TOKEN</c> set to this Tether.</summary>
    public Task<TetherCli.Result> RunAsync(params string[] args) =>
        TetherCli.RunAsync(args, new Dictionary<string, string> { ["TETHER_API"] = ApiRoot, ["TETHER_TOKEN"] = Token });

    /// <summary>Runs <c>tether ARGS -o json</c>, checks that it exits 0, and parses its standard output.</summary>
    public async Task<JsonNode> JsonAsync(params string[] args)
    {
        var result = await RunAsync([.. args, "-o", "json"]);
        Assert.True(result.Code == 0, $"tether {string.Join(' ', args)} exited {result.Code}: {result.Error}");
        return JsonNode.Parse(result.Output)!;
    }

    /// <summary>Creates an HTTP load balancer through the API over <paramref name="backends"/>.</summary>
    public Task<(int Id, int Port)> CreateLoadBalancerAsync(IEnumerable<TestBackend> backends, string? persistenceJson = null) =>
        Tether.CreateLoadBalancerAsync("ROUND_ROBIN", backends, persistenceJson);

    public ValueTask DisposeAsync() => Tether.DisposeAsync();
}

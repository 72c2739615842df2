using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Tether.Management.Health;

namespace Tether.Management.Tests.Endpoints;

/// <summary><c>GET /healthz</c> (issue 14 item 4): readiness without a token, outside the API's rate limits, 503 with
/// the reasons while starting, stopping or with a listener unbound, and pluggable through <see cref="IReadinessCheck"/>.</summary>
public sealed class HealthzEndpointTests
{
    [Fact]
    public async Task Healthz_Restored_200ReadyWithoutTokenAndNotCached()
    {
        using var directory = new TempDirectory();
        await using var host = await ApiHost.StartAsync(directory.Path);
        using var http = new HttpClient { BaseAddress = host.BaseAddress };

        using var response = await http.GetAsync("/healthz");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("ready", body["status"]!.GetValue<string>());
        Assert.Equal(["dataPlane", "store"], body["checks"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        Assert.All(body["checks"]!.AsArray(), c => Assert.True(c!["ready"]!.GetValue<bool>()));
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task Healthz_BeforeRestore_503StartingWithTheReason()
    {
        using var directory = new TempDirectory();
        await using var host = await ApiHost.StartAsync(directory.Path, restore: false);
        using var http = new HttpClient { BaseAddress = host.BaseAddress };

        var (status, body) = await GetAsync(http);
        await host.Service.RestoreAllAsync();
        var (after, _) = await GetAsync(http);

        Assert.Equal(503, status);
        Assert.Equal("notReady", body["status"]!.GetValue<string>());
        Assert.Equal(503, body["code"]!.GetValue<int>());
        Assert.Equal("Not ready: dataPlane: starting: the stored load balancers are not restored yet", body["message"]!.GetValue<string>());
        Assert.Equal(200, after);
    }

    [Fact]
    public async Task Healthz_Stopping_503StoppingWithTheReason()
    {
        using var directory = new TempDirectory();
        await using var host = await ApiHost.StartAsync(directory.Path);
        using var http = new HttpClient { BaseAddress = host.BaseAddress };

        // What SIGINT/SIGTERM does first (ConsoleLifetime): the API still answers while the host stops.
        host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        var (status, body) = await GetAsync(http);

        Assert.Equal(503, status);
        Assert.Equal("stopping: the listeners are closing and open connections draining", body["checks"]![0]!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Healthz_LoadBalancerListenerNotBound_503NamingTheLoadBalancer()
    {
        using var directory = new TempDirectory();
        var port = ApiHost.NextPort();
        int id;
        await using (var first = await ApiHost.StartAsync(directory.Path))
        {
            id = await first.NewAccount().CreateLoadBalancerAsync(port: port);
        }

        var dataPlane = new RecordingDataPlane();
        dataPlane.FailBind(port);
        await using var host = await ApiHost.StartAsync(directory.Path, dataPlane: dataPlane);
        using var http = new HttpClient { BaseAddress = host.BaseAddress };

        var (status, body) = await GetAsync(http);

        Assert.Equal(503, status);
        Assert.Equal($"load balancer {id} in ERROR: its listener is not bound", body["checks"]![0]!["reason"]!.GetValue<string>());
        Assert.True(body["checks"]![1]!["ready"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Healthz_OverTheApiRateLimitAndWithABadToken_StillAnswers()
    {
        using var directory = new TempDirectory();
        await using var host = await ApiHost.StartAsync(directory.Path, o => o.RateLimits = "GET 1/hour");
        using var http = new HttpClient { BaseAddress = host.BaseAddress };
        http.DefaultRequestHeaders.Add("X-Auth-Token", "not-a-token");

        var statuses = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await GetAsync(http)).Status);
        }

        Assert.All(statuses, s => Assert.Equal(200, s));
    }

    [Fact]
    public async Task Healthz_AddedCheckNotReady_503WithItsNameAndReason()
    {
        using var directory = new TempDirectory();
        var check = new SwitchCheck();
        await using var host = await ApiHost.StartAsync(directory.Path, services: s => s.AddSingleton<IReadinessCheck>(check));
        using var http = new HttpClient { BaseAddress = host.BaseAddress };

        var (status, body) = await GetAsync(http);
        check.Ready = true;
        var (after, _) = await GetAsync(http);

        Assert.Equal(503, status);
        Assert.Equal("Not ready: configuration: behind by 3 revisions", body["message"]!.GetValue<string>());
        Assert.Equal(200, after);
    }

    [Fact]
    public async Task Healthz_CheckThrows_503WithAFixedReasonAndNoExceptionText()
    {
        using var directory = new TempDirectory();
        await using var host = await ApiHost.StartAsync(directory.Path, services: s => s.AddSingleton<IReadinessCheck>(new ThrowingCheck()));
        using var http = new HttpClient { BaseAddress = host.BaseAddress };

        using var response = await http.GetAsync("/healthz");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(503, (int)response.StatusCode);
        Assert.Contains("secret: the check failed (see the log)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("password", text, StringComparison.Ordinal);
    }

    private static async Task<(int Status, JsonNode Body)> GetAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/healthz");
        return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    private sealed class SwitchCheck : IReadinessCheck
    {
        public volatile bool Ready;

        public string Name => "configuration";

        public ValueTask<ReadinessResult> CheckAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult(Ready ? ReadinessResult.Ready : ReadinessResult.NotReady("behind by 3 revisions"));
    }

    private sealed class ThrowingCheck : IReadinessCheck
    {
        public string Name => "secret";

        public ValueTask<ReadinessResult> CheckAsync(CancellationToken cancellationToken) =>
            throw new InvalidOperationException("redis://user:password@host failed");
    }
}

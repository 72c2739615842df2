using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace Tether.FunctionalTests.Infrastructure;

/// <summary>The set-up of the cluster functional tests (issue 14): a real <c>redis-server</c> (<see cref="Redis"/>,
/// installed when missing, see <see cref="RedisServer"/>), three real Kestrel backends (<c>b1</c>, <c>b2</c>,
/// <c>b3</c>) and the <c>tether serve</c> processes a test starts with <see cref="StartInstanceAsync"/>, each on its
/// own loopback address; all of them stopped after the test.</summary>
public abstract class TetherClusterTestBase : IAsyncLifetime
{
    /// <summary>How long a wait for the cluster may take before the test fails (a loaded 2-core machine starts
    /// processes and applies changes slowly; a working cluster takes well under a second).</summary>
    protected static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private readonly List<TetherProcess> _instances = [];

    protected RedisServer Redis { get; private set; } = null!;

    protected TestBackend[] Backends { get; private set; } = null!;

    /// <summary>The instances started so far, in order.</summary>
    protected IReadOnlyList<TetherProcess> Instances => _instances;

    public virtual async Task InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Backends = [await TestBackend.StartAsync("b1"), await TestBackend.StartAsync("b2"), await TestBackend.StartAsync("b3")];
    }

    /// <summary>Starts <c>tether serve --redis REDIS --instance NAME</c> on <paramref name="address"/> (127.0.0.2,
    /// 127.0.0.3...), with <paramref name="extraArguments"/> after them. The first instance's admin token (tokens are
    /// shared through Redis) is the API token of every later one. A local miss waits up to 2 seconds for the shared
    /// pin (<c>Cluster:StickFetchTimeoutMilliseconds</c>; 30 ms by default, which a Redis round trip on this loaded
    /// test machine sometimes exceeds, and the client is then placed by the local decision).</summary>
    protected async Task<TetherProcess> StartInstanceAsync(string address, string name, params string[] extraArguments)
    {
        var instance = await TetherProcess.StartAsync(address, ["--redis", Redis.Connection, "--instance", name, .. extraArguments],
            environment: new Dictionary<string, string> { ["TETHER_Cluster__StickFetchTimeoutMilliseconds"] = "2000" },
            token: _instances.Count == 0 ? null : _instances[0].Token);
        _instances.Add(instance);
        return instance;
    }

    /// <summary>Starts instance <c>a</c> on 127.0.0.2 and instance <c>b</c> on 127.0.0.3.</summary>
    protected async Task<(TetherProcess A, TetherProcess B)> StartPairAsync() =>
        (await StartInstanceAsync("127.0.0.2", "a"), await StartInstanceAsync("127.0.0.3", "b"));

    /// <summary>Creates through <paramref name="through"/> a ROUND_ROBIN HTTP load balancer over
    /// <see cref="Backends"/> with <paramref name="persistenceJson"/> and waits until every instance in
    /// <paramref name="servedBy"/> serves it.</summary>
    protected async Task<(int Id, int Port)> CreateServedAsync(TetherProcess through, string? persistenceJson, params TetherProcess[] servedBy)
    {
        var (id, port) = await through.CreateLoadBalancerAsync("ROUND_ROBIN", Backends, persistenceJson);
        foreach (var instance in servedBy)
        {
            await WaitServedAsync(instance, port);
        }

        return (id, port);
    }

    /// <summary>Adds <paramref name="backend"/> as an ENABLED node of load balancer <paramref name="id"/> through
    /// <paramref name="through"/> and asserts 202.</summary>
    protected static async Task AddNodeAsync(TetherProcess through, int id, TestBackend backend)
    {
        using var added = await through.SendJsonAsync(HttpMethod.Post, $"loadbalancers/{Text(id)}/nodes",
            $$"""{"nodes":[{"address":"127.0.0.1","port":{{Text(backend.Port)}},"condition":"ENABLED"}]}""");
        Assert.True(added.StatusCode == HttpStatusCode.Accepted, $"add node through {through.Address}: {(int)added.StatusCode} {await added.Content.ReadAsStringAsync()}");
    }

    /// <summary>Waits until <paramref name="instance"/> lists a node on <paramref name="backend"/>'s port in load
    /// balancer <paramref name="id"/>.</summary>
    protected static Task WaitNodeListedAsync(TetherProcess instance, int id, TestBackend backend) =>
        WaitUntilAsync(async () => (await instance.GetJsonAsync($"loadbalancers/{Text(id)}/nodes"))["nodes"]!.AsArray()
            .Any(n => n!["port"]!.GetValue<int>() == backend.Port), $"{instance.Address} never listed the node {backend.Name} of load balancer {Text(id)}");

    /// <summary>Waits until <paramref name="instance"/> answers 200 on <paramref name="port"/>.</summary>
    protected static async Task WaitServedAsync(TetherProcess instance, int port)
    {
        using var client = instance.Client(port);
        await WaitUntilAsync(async () =>
        {
            try
            {
                using var answer = await client.GetAsync(new Uri("/", UriKind.Relative));
                return answer.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, $"{instance.Address} never served port {Text(port)}");
    }

    /// <summary>Polls <paramref name="condition"/> every 100 ms until it holds; fails with <paramref name="failure"/>
    /// after <see cref="Deadline"/>.</summary>
    protected static Task WaitUntilAsync(Func<Task<bool>> condition, string failure) => WaitUntilAsync(condition, () => failure);

    /// <summary>As <see cref="WaitUntilAsync(Func{Task{bool}}, string)"/>, the failure message made when the deadline
    /// has passed (it can say what the last poll found).</summary>
    protected static async Task WaitUntilAsync(Func<Task<bool>> condition, Func<string> failure)
    {
        var start = TimeProvider.System.GetTimestamp();
        while (!await condition())
        {
            if (TimeProvider.System.GetElapsedTime(start) >= Deadline)
            {
                Assert.Fail(failure());
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Sends a change through <paramref name="through"/> and asserts it was accepted (202, or 200 for
    /// metadata).</summary>
    protected static async Task AssertAcceptedAsync(TetherProcess through, HttpMethod method, string path, string json)
    {
        using var answer = await through.SendJsonAsync(method, path, json);
        Assert.True(answer.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK, $"{method} {path} through {through.Address}: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
    }

    /// <summary>Whether <paramref name="loadBalancer"/> (a GET's <c>loadBalancer</c>) has a node on
    /// <paramref name="port"/>.</summary>
    protected static bool HasNode(JsonNode loadBalancer, int port) =>
        loadBalancer["nodes"]!.AsArray().Any(n => n!["port"]!.GetValue<int>() == port);

    /// <summary>
    /// The shared scenario of the learned persistence types (SOURCE_IP, APP_COOKIE, HEADER): instances a and b, a load
    /// balancer created through a over b1..b3 with <paramref name="persistenceJson"/>, 32 clients pinned through a,
    /// then a node b4 added through b (consistent hashing would now map about a quarter of the hashed clients to it,
    /// round robin most APP_COOKIE clients elsewhere). Asserts that every client reaches its node through b and that
    /// b4 gets no request: only the stick table shared through Redis can do that, b never saw these clients.
    /// </summary>
    protected async Task AssertPinnedThroughAKeepNodeThroughBAfterNodeAddedThroughBAsync(string persistenceJson, Func<int, StickyClient> client)
    {
        await using var b4 = await TestBackend.StartAsync("b4");
        var (a, b) = await StartPairAsync();
        var (id, port) = await CreateServedAsync(a, persistenceJson, b);

        var clients = Enumerable.Range(0, 32).Select(client).ToArray();
        var pinned = new Dictionary<StickyClient, string>();
        foreach (var c in clients)
        {
            pinned[c] = await c.GetAsync(a.Address, port);
        }

        await AddNodeAsync(b, id, b4);
        await WaitNodeListedAsync(a, id, b4);

        var moved = new List<string>();
        foreach (var c in clients)
        {
            var node = await c.GetAsync(b.Address, port);
            if (node != pinned[c])
            {
                moved.Add($"{c}: {pinned[c]} -> {node}");
            }
        }

        Assert.True(moved.Count == 0, $"{moved.Count.ToString(CultureInfo.InvariantCulture)} of {clients.Length.ToString(CultureInfo.InvariantCulture)} clients moved: " + string.Join(", ", moved));
        Assert.Equal(0, b4.Requests);
    }

    /// <summary>The load balancer <paramref name="id"/> as <paramref name="instance"/> answers it (GET).</summary>
    protected static async Task<JsonNode> LoadBalancerAsync(TetherProcess instance, int id) =>
        (await instance.GetJsonAsync($"loadbalancers/{Text(id)}"))["loadBalancer"]!;

    protected static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    public virtual async Task DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            await instance.DisposeAsync();
        }

        foreach (var b in Backends ?? [])
        {
            await b.DisposeAsync();
        }

        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }
    }
}

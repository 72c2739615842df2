using System.Net;
using Tether.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace Tether.FunctionalTests;

/// <summary>
/// Bounded-load consistent hashing against real backends with real clients (issue 13): one hot source address keeps
/// 60 requests in flight on its node, then 120 cold clients (each its own 127.0.x.y address) arrive one by one and
/// keep one request in flight each. Without <c>hashBalanceFactor</c> the cold clients follow the Maglev table, hot
/// node included; with 125 % none is placed on a node above ceil(1.25 × average in flight), so the hot node's share
/// stays within the factor. The shares are written to the test output.
/// </summary>
public sealed class BoundedLoadTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int HotRequests = 60;
    private const int ColdClients = 120;
    private TestBackend[] _backends = null!;

    public async Task InitializeAsync() =>
        _backends = [await TestBackend.StartAsync("b1"), await TestBackend.StartAsync("b2"), await TestBackend.StartAsync("b3")];

    public async Task DisposeAsync()
    {
        foreach (var b in _backends)
        {
            await b.DisposeAsync();
        }
    }

    [Fact]
    public async Task SourceIp_OneHotSourceManyCold_HottestShareStaysWithinTheFactorOnlyWhenOn()
    {
        await using var tether = await TetherInstance.StartAsync();

        var off = await RunAsync(tether, 0);
        var on = await RunAsync(tether, 125);

        output.WriteLine($"factor off: {Describe(off)}");
        output.WriteLine($"factor 125: {Describe(on)}");
        var total = HotRequests + ColdClients;
        // Off: the cold clients that hash to the hot node go there too (about a third of them).
        Assert.True(off.Max() > HotRequests + (ColdClients / 6), $"off: {Describe(off)}");
        // On: the hottest node holds at most ceil(1.25 × (total) / 3) requests (+1, the one that tipped it).
        Assert.True(on.Max() <= Math.Ceiling(1.25 * total / 3) + 1, $"on: {Describe(on)}");
        Assert.Equal(total, on.Sum());
    }

    private static string Describe(int[] perNode) =>
        string.Join(", ", perNode.Select((n, i) => $"b{i + 1}={n} ({100.0 * n / perNode.Sum():F1}%)"));

    /// <summary>One run on a new load balancer: the in-flight requests each node received, in backend order.</summary>
    private async Task<int[]> RunAsync(TetherInstance tether, int factor)
    {
        var (_, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends,
            $$"""{"persistenceType":"SOURCE_IP","hashBalanceFactor":{{factor}}}""");
        var requests = new List<Task<PersistenceAgreementTests.Response>>();
        var hot = IPAddress.Parse("127.0.0.1");
        for (var i = 0; i < HotRequests; i++)
        {
            requests.Add(SendAndWaitForArrivalAsync(hot, port));
            await ArrivedAsync(requests.Count);
        }

        for (var i = 0; i < ColdClients; i++)
        {
            requests.Add(SendAndWaitForArrivalAsync(new IPAddress([127, 0, (byte)(2 + i / 250), (byte)(1 + i % 250)]), port));
            await ArrivedAsync(requests.Count);
        }

        var answers = await Task.WhenAll(requests);
        var perNode = new int[_backends.Length];
        foreach (var answer in answers)
        {
            Assert.Equal(200, answer.Status);
            perNode[int.Parse(answer.Headers["X-Backend"][1..], System.Globalization.CultureInfo.InvariantCulture) - 1]++;
        }

        _baseline = _backends.Sum(b => b.Requests);
        return perNode;
    }

    private int _baseline;

    /// <summary>Waits until the backends together received <paramref name="count"/> requests of this run, so that
    /// each request is in flight before the next client is placed.</summary>
    private async Task ArrivedAsync(int count)
    {
        for (var i = 0; i < 2000 && _backends.Sum(b => b.Requests) - _baseline < count; i++)
        {
            await Task.Delay(5);
        }
    }

    private static Task<PersistenceAgreementTests.Response> SendAndWaitForArrivalAsync(IPAddress from, int port) =>
        PersistenceAgreementTests.Response.GetAsync(from, port, "GET /slow?ms=15000 HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n", TimeSpan.FromSeconds(60));
}

using Microsoft.Extensions.Time.Testing;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.SessionPersistence;

/// <summary>Cluster mode: a cookie signed with a key id this instance lacks re-reads the shared key set once,
/// rate-limited, before it is judged (issue 14; the store side is tested with real processes in
/// Tether.FunctionalTests/Cluster/ClusterOperationsTests).</summary>
public sealed class CookieKeyRereadTests
{
    private readonly FakeTimeProvider _clock = Clock();

    [Fact]
    public async Task WaitAsync_ManyUnknownCookiesWithinASecond_OneRereadThenNoneUntilTheSecondHasPassed()
    {
        var reads = 0;
        var reread = new CookieKeyReread(() => { reads++; return Task.CompletedTask; }, _clock);

        await reread.WaitAsync(CancellationToken.None);
        var mayAfterFirst = reread.MayReread;
        for (var i = 0; i < 100; i++)
        {
            await reread.WaitAsync(CancellationToken.None);
        }

        _clock.Advance(TimeSpan.FromMilliseconds(999));
        await reread.WaitAsync(CancellationToken.None);
        var readsWithinTheSecond = reads;
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        var mayAfterASecond = reread.MayReread;
        await reread.WaitAsync(CancellationToken.None);

        Assert.False(mayAfterFirst);
        Assert.Equal(1, readsWithinTheSecond);
        Assert.True(mayAfterASecond);
        Assert.Equal(2, reads);
        Assert.Equal(2, reread.Count);
    }

    [Fact]
    public async Task WaitAsync_RereadRunning_LaterRequestsWaitForTheSameOne()
    {
        var reads = 0;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reread = new CookieKeyReread(() => { Interlocked.Increment(ref reads); return gate.Task; }, TimeProvider.System);

        var waiting = Enumerable.Range(0, 10).Select(_ => reread.WaitAsync(CancellationToken.None).AsTask()).ToArray();
        var mayWhileRunning = reread.MayReread;
        var doneBefore = waiting.Count(t => t.IsCompleted);
        gate.SetResult();
        await Task.WhenAll(waiting);

        Assert.True(mayWhileRunning);
        Assert.Equal(0, doneBefore);
        Assert.Equal(1, reads);
    }

    [Fact]
    public async Task WaitAsync_StoreSlowerThanMaxWait_ReturnsAfterMaxWaitAndTheRereadStillLands()
    {
        var landed = false;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reread = new CookieKeyReread(async () => { await gate.Task; landed = true; }, _clock);

        var waiting = reread.WaitAsync(CancellationToken.None).AsTask();
        await Task.Delay(50);
        var doneBeforeMaxWait = waiting.IsCompleted;
        _clock.Advance(CookieKeyReread.MaxWait);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        var landedAtReturn = landed;
        gate.SetResult();
        while (!landed)
        {
            await Task.Delay(10);
        }

        Assert.False(doneBeforeMaxWait);
        Assert.False(landedAtReturn);
    }

    [Fact]
    public async Task MissesSharedState_CookieOfAKeyRotatedElsewhere_RereadThenHonoured()
    {
        // Instance A signs with key 2; B holds key 1 only until its re-read brings key 2.
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithCookie();
        var a = new LoadBalancerRuntime(config, Ring(1, 2), _clock, new SeededRandomSource(1));
        var issued = a.Select(default, default);
        var cookie = PersistenceCookie.Encode(Ring(1, 2), config.Id, issued.Node!.Id, issued.SessionId, Start.ToUnixTimeSeconds());
        var b = new LoadBalancerRuntime(config, Ring(1), _clock, new SeededRandomSource(2));
        b.KeyReread = new CookieKeyReread(() => { b.Keys = Ring(1, 2); return Task.CompletedTask; }, _clock);
        var request = new PersistenceRequest(UInt128.Zero, cookie, UInt128.Zero, default);

        var consults = b.ConsultsStore(b.Snapshot);
        var misses = b.MissesSharedState(b.Snapshot, request, out _);
        await b.FetchSharedStateAsync(b.Snapshot, UInt128.Zero, CancellationToken.None);
        var selection = b.Select(b.Snapshot, new PersistenceRequest(UInt128.Zero, cookie, UInt128.Zero, default));
        var missesAfter = b.MissesSharedState(b.Snapshot, new PersistenceRequest(UInt128.Zero, cookie, UInt128.Zero, default), out _);

        Assert.True(consults);
        Assert.True(misses);
        Assert.Equal(issued.Node.Id, selection.Node!.Id);
        Assert.Equal(SelectionOutcome.Persisted, selection.Outcome);
        Assert.False(missesAfter);
    }

    [Fact]
    public async Task MissesSharedState_UnknownKeyRereadWithinTheSecond_FalseSoTheCookieIsJudgedAtOnce()
    {
        var config = LoadBalancer(Node(1), Node(2)).WithCookie();
        var cookie = PersistenceCookie.Encode(Ring(9), config.Id, 1, 5, Start.ToUnixTimeSeconds());
        var reread = new CookieKeyReread(() => Task.CompletedTask, _clock);
        var b = new LoadBalancerRuntime(config, Ring(1), _clock, new SeededRandomSource(2)) { KeyReread = reread };
        await reread.WaitAsync(CancellationToken.None);

        var misses = b.MissesSharedState(b.Snapshot, new PersistenceRequest(UInt128.Zero, cookie, UInt128.Zero, default), out _);
        _clock.Advance(CookieKeyReread.MinInterval);
        var missesASecondLater = b.MissesSharedState(b.Snapshot, new PersistenceRequest(UInt128.Zero, cookie, UInt128.Zero, default), out _);

        Assert.False(misses);
        Assert.True(missesASecondLater);
    }

    [Fact]
    public void MissesSharedState_KnownKeyOrNoCookieOrSingleInstance_False()
    {
        var config = LoadBalancer(Node(1), Node(2)).WithCookie();
        var known = PersistenceCookie.Encode(Ring(1), config.Id, 1, 5, Start.ToUnixTimeSeconds());
        var unknown = PersistenceCookie.Encode(Ring(2), config.Id, 1, 5, Start.ToUnixTimeSeconds());
        var cluster = new LoadBalancerRuntime(config, Ring(1), _clock, new SeededRandomSource(2))
        {
            KeyReread = new CookieKeyReread(() => Task.CompletedTask, _clock),
        };
        var single = new LoadBalancerRuntime(config, Ring(1), _clock, new SeededRandomSource(2));

        Assert.False(cluster.MissesSharedState(cluster.Snapshot, new PersistenceRequest(UInt128.Zero, known, UInt128.Zero, default), out _));
        Assert.False(cluster.MissesSharedState(cluster.Snapshot, new PersistenceRequest(UInt128.Zero, "", UInt128.Zero, default), out _));
        Assert.False(cluster.MissesSharedState(cluster.Snapshot, new PersistenceRequest(UInt128.Zero, "not-a-cookie", UInt128.Zero, default), out _));
        Assert.False(single.MissesSharedState(single.Snapshot, new PersistenceRequest(UInt128.Zero, unknown, UInt128.Zero, default), out _));
        Assert.False(single.ConsultsStore(single.Snapshot));
    }

    [Fact]
    public void TryReadKeyId_EncodedCookie_ReadsItsKeyIdAndRefusesOtherValues()
    {
        var value = PersistenceCookie.Encode(Ring(1, 200), 7, 42, 1_735_689_600);

        Assert.True(PersistenceCookie.TryReadKeyId(value, out var id));
        Assert.Equal(200, id);
        Assert.False(PersistenceCookie.TryReadKeyId(value.AsSpan()[..^1], out _));
        Assert.False(PersistenceCookie.TryReadKeyId("B" + value[1..], out _));
        Assert.False(PersistenceCookie.TryReadKeyId(new string('*', PersistenceCookie.EncodedLength), out _));
    }
}

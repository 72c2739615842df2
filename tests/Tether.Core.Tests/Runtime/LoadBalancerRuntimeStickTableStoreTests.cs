using Microsoft.Extensions.Time.Testing;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.Runtime;

/// <summary>Keeping stick tables across a restart: <see cref="LoadBalancerRuntime.ExportStickTable"/>,
/// <see cref="LoadBalancerRuntime.ImportStickTable"/> and the clock conversions they use.</summary>
public sealed class LoadBalancerRuntimeStickTableStoreTests
{
    private static readonly UInt128 KeyA = StableHash.OfCookie("SESSIONID", "alice");
    private static readonly UInt128 KeyB = StableHash.OfCookie("SESSIONID", "bob");
    private static readonly UInt128 KeyC = StableHash.OfCookie("SESSIONID", "carol");
    private static readonly UInt128 KeyD = StableHash.OfCookie("SESSIONID", "dave");

    private readonly FakeTimeProvider _clock = Clock();

    [Fact]
    public void ExportStickTable_AppCookie_GivesWallClockLastUse()
    {
        var runtime = Create(AppConfig(), _clock);
        runtime.LearnAppCookie(KeyA, 2);
        _clock.Advance(TimeSpan.FromSeconds(7));
        runtime.LearnAppCookie(KeyB, 3);
        _clock.Advance(TimeSpan.FromSeconds(5));

        var exported = runtime.ExportStickTable().OrderBy(e => e.NodeId).ToList();

        Assert.Equal(
            [new StoredStickEntry(KeyA, 2, Start), new StoredStickEntry(KeyB, 3, Start.AddSeconds(7))],
            exported);
    }

    [Fact]
    public void ExportStickTable_ExpiredEntries_AreLeftOut()
    {
        var runtime = Create(AppConfig(timeoutSeconds: 60), _clock);
        runtime.LearnAppCookie(KeyA, 2);
        _clock.Advance(TimeSpan.FromSeconds(30));
        runtime.LearnAppCookie(KeyB, 3);
        _clock.Advance(TimeSpan.FromSeconds(31));

        var exported = runtime.ExportStickTable();

        Assert.Equal([new StoredStickEntry(KeyB, 3, Start.AddSeconds(30))], exported);
    }

    [Fact]
    public void ExportStickTable_NoPersistence_IsEmpty()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)), _clock);
        runtime.LearnAppCookie(KeyA, 2);

        Assert.Empty(runtime.ExportStickTable());
    }

    [Fact]
    public void ImportStickTable_AppCookieRoundTripIntoNewRuntime_RestoresPins()
    {
        var config = AppConfig();
        var before = Create(config, _clock);
        before.LearnAppCookie(KeyA, 2);
        before.LearnAppCookie(KeyB, 3);
        before.LearnAppCookie(KeyC, 2);
        _clock.Advance(TimeSpan.FromSeconds(10));
        var stored = before.ExportStickTable();

        // Restart 30 s later: a new runtime, a new clock.
        var restartClock = new FakeTimeProvider(_clock.GetUtcNow().AddSeconds(30));
        var after = Create(config, restartClock);
        var loaded = after.ImportStickTable(stored);

        Assert.Equal(3, loaded);
        Assert.Equal(3, after.StickTable.Count);
        Assert.Equal(new Selection(after.Snapshot.FindNode(2), SelectionOutcome.Persisted, false), after.Select([], KeyA));
        Assert.Equal(new Selection(after.Snapshot.FindNode(3), SelectionOutcome.Persisted, false), after.Select([], KeyB));
        Assert.Equal(new Selection(after.Snapshot.FindNode(2), SelectionOutcome.Persisted, false), after.Select([], KeyC));
        Assert.Equal(SelectionOutcome.Balanced, after.Select([], KeyD).Outcome);
    }

    [Fact]
    public void ImportStickTable_SourceIpRoundTripIntoNewRuntime_ClientsArePersistedToSameNodes()
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp();
        var before = Create(config, _clock);
        var nodes = Enumerable.Range(0, 100).Select(i => before.Select([], ClientKey(i)).Node!.Id).ToArray();
        var stored = before.ExportStickTable();

        var after = Create(config, new FakeTimeProvider(_clock.GetUtcNow().AddMinutes(5)));
        var loaded = after.ImportStickTable(stored);
        var selections = Enumerable.Range(0, 100).Select(i => after.Select([], ClientKey(i))).ToArray();

        Assert.Equal(100, loaded);
        Assert.All(selections, s => Assert.Equal(SelectionOutcome.Persisted, s.Outcome));
        Assert.Equal(nodes, selections.Select(s => s.Node!.Id));
    }

    [Fact]
    public void ImportStickTable_RemovedNodeAndExpiredEntries_AreSkipped()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithAlgorithm(AlgorithmNames.RoundRobin).WithAppCookie(timeoutSeconds: 60), _clock);
        var now = _clock.GetUtcNow();
        StoredStickEntry[] stored =
        [
            new(KeyA, 1, now.AddSeconds(-10)),
            new(KeyB, 3, now.AddSeconds(-10)),   // node 3 is gone
            new(KeyC, 2, now.AddSeconds(-61)),   // idle longer than the timeout
            new(KeyD, 2, now.AddSeconds(-60)),   // idle exactly the timeout: still live
        ];

        var loaded = runtime.ImportStickTable(stored);

        Assert.Equal(2, loaded);
        Assert.Equal(2, runtime.StickTable.Count);
        Assert.Equal(new Selection(runtime.Snapshot.FindNode(1), SelectionOutcome.Persisted, false), runtime.Select([], KeyA));
        Assert.Equal(new Selection(runtime.Snapshot.FindNode(2), SelectionOutcome.Persisted, false), runtime.Select([], KeyD));
        Assert.False(runtime.IsPinned(KeyB));
        Assert.False(runtime.IsPinned(KeyC));
        Assert.Equal(SelectionOutcome.Balanced, runtime.Select([], KeyB).Outcome);
        Assert.Equal(SelectionOutcome.Balanced, runtime.Select([], KeyC).Outcome);
    }

    [Fact]
    public void ImportStickTable_ImportedEntry_KeepsItsAge()
    {
        var runtime = Create(AppConfig(timeoutSeconds: 60), _clock);
        runtime.ImportStickTable([new StoredStickEntry(KeyA, 2, _clock.GetUtcNow().AddSeconds(-50))]);

        _clock.Advance(TimeSpan.FromSeconds(9));
        var live = runtime.IsPinned(KeyA);
        _clock.Advance(TimeSpan.FromSeconds(2));

        Assert.True(live);
        Assert.False(runtime.IsPinned(KeyA));
        Assert.Empty(runtime.ExportStickTable());
    }

    [Fact]
    public void ImportStickTable_Empty_LoadsNothing()
    {
        var runtime = Create(AppConfig(), _clock);

        Assert.Equal(0, runtime.ImportStickTable([]));
        Assert.Equal(0, runtime.StickTable.Count);
    }

    [Fact]
    public void ToUtc_TimestampOfNowAndOfThePast_IsWallClockTime()
    {
        var runtime = Create(AppConfig(), _clock);
        var atStart = _clock.GetTimestamp();

        _clock.Advance(TimeSpan.FromSeconds(90.5));

        Assert.Equal(_clock.GetUtcNow(), runtime.ToUtc(_clock.GetTimestamp()));
        Assert.Equal(Start, runtime.ToUtc(atStart));
        Assert.Equal(atStart, runtime.ToTimestamp(Start));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.001)]
    [InlineData(-123.4567)]
    [InlineData(-3600.0)]
    [InlineData(-86400.25)]
    [InlineData(5.0)]
    public void ToUtcToTimestamp_OffsetTimestampClock_RoundTripWithinOneMillisecond(double secondsFromNow)
    {
        // A clock whose timestamps are not UTC ticks: nanoseconds since an arbitrary origin, like Stopwatch.
        var clock = new NanosecondClock(Clock());
        clock.Inner.Advance(TimeSpan.FromHours(3));
        var runtime = Create(AppConfig(), clock);
        var utc = clock.GetUtcNow().AddSeconds(secondsFromNow);

        var timestamp = runtime.ToTimestamp(utc);
        var back = runtime.ToUtc(timestamp);
        var expectedTimestamp = clock.GetTimestamp() + (long)(secondsFromNow * 1e9);

        Assert.InRange((back - utc).Duration(), TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
        Assert.InRange(Math.Abs(timestamp - expectedTimestamp), 0, clock.TimestampFrequency / 1000);
        Assert.InRange(Math.Abs(runtime.ToTimestamp(runtime.ToUtc(timestamp)) - timestamp), 0, clock.TimestampFrequency / 1000);
    }

    [Fact]
    public void ImportStickTable_NanosecondClock_RoundTripRestoresPins()
    {
        var config = AppConfig();
        var clock = new NanosecondClock(Clock());
        var before = Create(config, clock);
        before.LearnAppCookie(KeyA, 3);
        clock.Inner.Advance(TimeSpan.FromSeconds(20));
        var stored = before.ExportStickTable();

        var after = Create(config, new NanosecondClock(new FakeTimeProvider(clock.GetUtcNow().AddSeconds(40)), origin: 987_654_321));
        Assert.Equal(1, after.ImportStickTable(stored));

        var entry = Assert.Single(after.StickTable.Snapshot(after.Time.GetTimestamp()));
        Assert.Equal(Start, after.ToUtc(entry.LastUse));
        Assert.Equal(new Selection(after.Snapshot.FindNode(3), SelectionOutcome.Persisted, false), after.Select([], KeyA));
    }

    private static LoadBalancerConfig AppConfig(int? timeoutSeconds = null) =>
        LoadBalancer(Node(1), Node(2), Node(3))
            .WithAlgorithm(AlgorithmNames.RoundRobin)
            .WithAppCookie(timeoutSeconds: timeoutSeconds);

    private static LoadBalancerRuntime Create(LoadBalancerConfig config, TimeProvider clock) =>
        new(config, Ring(1), clock, new SeededRandomSource(20250101));

    /// <summary>A fake clock whose timestamps count nanoseconds from an origin unrelated to wall-clock time.</summary>
    private sealed class NanosecondClock(FakeTimeProvider inner, long origin = 1_000_000_007) : TimeProvider
    {
        private readonly long _startTicks = inner.GetUtcNow().UtcTicks;

        public FakeTimeProvider Inner { get; } = inner;

        public override long TimestampFrequency => 1_000_000_000;

        public override DateTimeOffset GetUtcNow() => Inner.GetUtcNow();

        public override long GetTimestamp() => origin + ((Inner.GetUtcNow().UtcTicks - _startTicks) * 100);
    }
}

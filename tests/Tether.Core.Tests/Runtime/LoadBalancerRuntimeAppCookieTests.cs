using Microsoft.Extensions.Time.Testing;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.Runtime;

/// <summary>APP_COOKIE persistence: the runtime follows keys the data plane learns from node responses.</summary>
public sealed class LoadBalancerRuntimeAppCookieTests
{
    private static readonly UInt128 KeyA = StableHash.OfCookie("SESSIONID", "alice-0001");
    private static readonly UInt128 KeyB = StableHash.OfCookie("SESSIONID", "bob-0002");

    private readonly FakeTimeProvider _clock = Clock();

    public enum Unavailability
    {
        Disabled,
        Offline,
        PassiveHealth,
    }

    [Fact]
    public void Snapshot_AppCookie_UsesConfiguredCookieNameOrStar()
    {
        var named = Create(LoadBalancer(Node(1)).WithAppCookie());
        var any = Create(LoadBalancer(Node(1)).WithAppCookie(cookieName: null, timeoutSeconds: 90));

        Assert.Equal(PersistenceType.AppCookie, named.Snapshot.PersistenceType);
        Assert.Equal("SESSIONID", named.Snapshot.CookieName);
        Assert.Equal(1200, named.Snapshot.TimeoutSeconds);
        Assert.Null(named.Snapshot.CookieAttributes);
        Assert.Null(named.Snapshot.Maglev);
        Assert.Equal("*", any.Snapshot.CookieName);
        Assert.Equal(90L * _clock.TimestampFrequency, any.Snapshot.TtlTicks);
    }

    [Fact]
    public void Select_AppCookieNoKey_IsBalancedAndPinsNothing()
    {
        var runtime = Create(Config());

        var first = runtime.Select([], UInt128.Zero);
        var second = runtime.Select([], UInt128.Zero);

        Assert.Equal(new Selection(runtime.Snapshot.FindNode(1), SelectionOutcome.Balanced, false), first);
        Assert.Equal(new Selection(runtime.Snapshot.FindNode(2), SelectionOutcome.Balanced, false), second);
        Assert.Equal(0, runtime.StickTable.Count);
        Assert.False(runtime.IsPinned(UInt128.Zero));
    }

    [Fact]
    public void Select_AppCookieZeroKeyEvenIfLearned_IsBalanced()
    {
        var runtime = Create(Config());
        runtime.LearnAppCookie(UInt128.Zero, 3);

        var selection = runtime.Select([], UInt128.Zero);

        Assert.Equal(new Selection(runtime.Snapshot.FindNode(1), SelectionOutcome.Balanced, false), selection);
    }

    [Fact]
    public void Select_AppCookieLearnedKey_IsPersistedToThatNode()
    {
        var runtime = Create(Config());

        runtime.LearnAppCookie(KeyA, 2);
        var selections = Enumerable.Range(0, 5).Select(_ => runtime.Select([], KeyA)).ToList();

        Assert.All(selections, s => Assert.Equal(new Selection(runtime.Snapshot.FindNode(2), SelectionOutcome.Persisted, false), s));
        Assert.Equal(1, runtime.StickTable.Count);
        Assert.Equal(new Dictionary<int, int> { [2] = 1 }, runtime.CountSessionsByNode());
    }

    [Fact]
    public void LearnAppCookie_SameKeyFromAnotherNode_MovesThePin()
    {
        var runtime = Create(Config());
        runtime.LearnAppCookie(KeyA, 2);

        runtime.LearnAppCookie(KeyA, 3);

        Assert.Equal(new Selection(runtime.Snapshot.FindNode(3), SelectionOutcome.Persisted, false), runtime.Select([], KeyA));
        Assert.Equal(1, runtime.StickTable.Count);
    }

    [Fact]
    public void Select_AppCookieUnknownKey_IsBalancedAndPinsNothing()
    {
        var runtime = Create(Config());
        runtime.LearnAppCookie(KeyA, 2);

        var selection = runtime.Select([], KeyB);

        Assert.Equal(new Selection(runtime.Snapshot.FindNode(1), SelectionOutcome.Balanced, false), selection);
        Assert.Equal(1, runtime.StickTable.Count);
        Assert.False(runtime.IsPinned(KeyB));
    }

    [Fact]
    public void ForgetAppCookie_LearnedKey_NextSelectIsBalanced()
    {
        var runtime = Create(Config());
        runtime.LearnAppCookie(KeyA, 2);
        Assert.Equal(SelectionOutcome.Persisted, runtime.Select([], KeyA).Outcome);

        runtime.ForgetAppCookie(KeyA);
        var selection = runtime.Select([], KeyA);

        Assert.Equal(new Selection(runtime.Snapshot.FindNode(1), SelectionOutcome.Balanced, false), selection);
        Assert.Equal(0, runtime.StickTable.Count);
        Assert.False(runtime.IsPinned(KeyA));
    }

    [Fact]
    public void ForgetAppCookie_UnknownKey_ChangesNothing()
    {
        var runtime = Create(Config());
        runtime.LearnAppCookie(KeyA, 2);

        runtime.ForgetAppCookie(KeyB);

        Assert.Equal(1, runtime.StickTable.Count);
        Assert.Equal(new Selection(runtime.Snapshot.FindNode(2), SelectionOutcome.Persisted, false), runtime.Select([], KeyA));
    }

    [Theory]
    [InlineData(Unavailability.Disabled)]
    [InlineData(Unavailability.Offline)]
    [InlineData(Unavailability.PassiveHealth)]
    public void Select_AppCookiePinnedNodeUnavailable_IsRepinnedAndKeyFollowsNewNode(Unavailability reason)
    {
        var config = Config();
        var runtime = Create(config);
        runtime.LearnAppCookie(KeyA, 2);

        MakeUnavailable(runtime, config, 2, reason);
        var repinned = runtime.Select([], KeyA);
        var next = runtime.Select([], KeyA);

        // Round robin over the remaining nodes 1 and 3 starts at node 1.
        Assert.Equal(new Selection(runtime.Snapshot.FindNode(1), SelectionOutcome.Repinned, false), repinned);
        Assert.Equal(new Selection(runtime.Snapshot.FindNode(1), SelectionOutcome.Persisted, false), next);
        Assert.True(runtime.StickTable.TryPeek(KeyA, _clock.GetTimestamp(), out var nodeId));
        Assert.Equal(1, nodeId);
        Assert.Equal(1, runtime.StickTable.Count);
    }

    [Fact]
    public void Select_AppCookiePinnedNodeDisabledFallbackDisabled_IsRejectedAndKeepsPin()
    {
        var config = Config(disableFallback: true);
        var runtime = Create(config);
        runtime.LearnAppCookie(KeyA, 2);

        runtime.Apply(config with { Nodes = [Node(1), Node(2, condition: NodeCondition.Disabled), Node(3)] });
        var rejected = runtime.Select([], KeyA);
        runtime.Apply(config);
        var back = runtime.Select([], KeyA);

        Assert.Equal(new Selection(null, SelectionOutcome.RejectedNoFallback, false), rejected);
        Assert.Equal(new Selection(runtime.Snapshot.FindNode(2), SelectionOutcome.Persisted, false), back);
    }

    [Fact]
    public void Select_AppCookiePinnedNodeDisabledAndNoOtherNode_IsNoNodeAvailable()
    {
        var config = LoadBalancer(Node(1), Node(2)).WithAppCookie();
        var runtime = Create(config);
        runtime.LearnAppCookie(KeyA, 2);

        runtime.Apply(config with { Nodes = [Node(1, condition: NodeCondition.Disabled), Node(2, condition: NodeCondition.Disabled)] });

        Assert.Equal(new Selection(null, SelectionOutcome.NoNodeAvailable, false), runtime.Select([], KeyA));
    }

    [Fact]
    public void Select_AppCookiePinnedNodeDraining_IsStillPersistedButNewClientsNeverGetIt()
    {
        var config = Config();
        var runtime = Create(config);
        runtime.LearnAppCookie(KeyA, 2);

        runtime.Apply(config with { Nodes = [Node(1), Node(2, condition: NodeCondition.Draining), Node(3)] });
        var pinned = runtime.Select([], KeyA);
        var fresh = Enumerable.Range(0, 4).Select(_ => runtime.Select([], KeyB).Node!.Id).ToArray();

        Assert.Equal(new Selection(runtime.Snapshot.FindNode(2), SelectionOutcome.Persisted, false), pinned);
        Assert.Equal([1, 3, 1, 3], fresh);
    }

    [Fact]
    public void Apply_AppCookiePinnedNodeRemoved_DropsPinAndBalances()
    {
        var config = Config();
        var runtime = Create(config);
        runtime.LearnAppCookie(KeyA, 2);
        runtime.LearnAppCookie(KeyB, 3);

        runtime.Apply(config with { Nodes = [Node(1), Node(3)] });

        Assert.Equal(1, runtime.StickTable.Count);
        Assert.False(runtime.IsPinned(KeyA));
        Assert.Equal(new Selection(runtime.Snapshot.FindNode(1), SelectionOutcome.Balanced, false), runtime.Select([], KeyA));
        Assert.Equal(new Selection(runtime.Snapshot.FindNode(3), SelectionOutcome.Persisted, false), runtime.Select([], KeyB));
    }

    [Fact]
    public void Select_AppCookieIdleLongerThanTimeout_PinExpires()
    {
        var runtime = Create(Config(timeoutSeconds: 60));
        runtime.LearnAppCookie(KeyA, 2);

        _clock.Advance(TimeSpan.FromSeconds(60));
        var atTimeout = runtime.Select([], KeyA); // idle exactly the timeout: live, and refreshed
        _clock.Advance(TimeSpan.FromSeconds(60));
        var refreshed = runtime.Select([], KeyA);
        _clock.Advance(TimeSpan.FromSeconds(61));
        var expired = runtime.Select([], KeyA);

        Assert.Equal(new Selection(runtime.Snapshot.FindNode(2), SelectionOutcome.Persisted, false), atTimeout);
        Assert.Equal(new Selection(runtime.Snapshot.FindNode(2), SelectionOutcome.Persisted, false), refreshed);
        Assert.Equal(new Selection(runtime.Snapshot.FindNode(1), SelectionOutcome.Balanced, false), expired);
        Assert.False(runtime.IsPinned(KeyA));
        Assert.Empty(runtime.CountSessionsByNode());
    }

    [Fact]
    public void IsPinned_AppCookie_TrueOnlyWhileLearnedAndLive()
    {
        var runtime = Create(Config(timeoutSeconds: 60));

        Assert.False(runtime.IsPinned(KeyA));
        runtime.LearnAppCookie(KeyA, 2);
        Assert.True(runtime.IsPinned(KeyA));
        Assert.False(runtime.IsPinned(KeyB));

        runtime.ForgetAppCookie(KeyA);
        Assert.False(runtime.IsPinned(KeyA));
    }

    [Fact]
    public void IsPinned_AppCookie_DoesNotRefreshThePin()
    {
        var runtime = Create(Config(timeoutSeconds: 60));
        runtime.LearnAppCookie(KeyA, 2);

        _clock.Advance(TimeSpan.FromSeconds(59));
        Assert.True(runtime.IsPinned(KeyA));
        _clock.Advance(TimeSpan.FromSeconds(2));

        Assert.False(runtime.IsPinned(KeyA));
        Assert.Equal(SelectionOutcome.Balanced, runtime.Select([], KeyA).Outcome);
    }

    [Fact]
    public void Select_AppCookiePersisted_SetsLastPersistedOfThatNodeOnly()
    {
        var runtime = Create(Config());
        runtime.LearnAppCookie(KeyA, 2);
        runtime.Select([], KeyB); // Balanced: not a persisted request

        Assert.Equal(0, runtime.Snapshot.FindNode(1)!.Counters.LastPersisted);
        _clock.Advance(TimeSpan.FromSeconds(3));
        runtime.Select([], KeyA);

        Assert.Equal(_clock.GetTimestamp(), runtime.Snapshot.FindNode(2)!.Counters.LastPersisted);
        Assert.Equal(0, runtime.Snapshot.FindNode(1)!.Counters.LastPersisted);
        Assert.Equal(0, runtime.Snapshot.FindNode(3)!.Counters.LastPersisted);
    }

    [Fact]
    public void Statistics_AppCookieOutcomes_AreCounted()
    {
        var config = Config(disableFallback: true);
        var runtime = Create(config);
        runtime.LearnAppCookie(KeyA, 2);

        runtime.Select([], UInt128.Zero);  // Balanced
        runtime.Select([], KeyB);          // Balanced
        runtime.Select([], KeyA);          // Persisted
        runtime.Apply(config with { Nodes = [Node(1), Node(2, condition: NodeCondition.Disabled), Node(3)] });
        runtime.Select([], KeyA);          // RejectedNoFallback
        runtime.Apply(Config() with { Nodes = [Node(1), Node(2, condition: NodeCondition.Disabled), Node(3)] });
        runtime.Select([], KeyA);          // Repinned
        runtime.Select([], KeyA);          // Persisted

        Assert.Equal(2, runtime.Statistics.Get(SelectionOutcome.Balanced));
        Assert.Equal(2, runtime.Statistics.Get(SelectionOutcome.Persisted));
        Assert.Equal(1, runtime.Statistics.Get(SelectionOutcome.RejectedNoFallback));
        Assert.Equal(1, runtime.Statistics.Get(SelectionOutcome.Repinned));
        Assert.Equal(0, runtime.Statistics.Get(SelectionOutcome.Hashed));
        Assert.Equal(0, runtime.Statistics.Get(SelectionOutcome.NoNodeAvailable));
    }

    private static LoadBalancerConfig Config(bool disableFallback = false, int? timeoutSeconds = null) =>
        LoadBalancer(Node(1), Node(2), Node(3))
            .WithAlgorithm(AlgorithmNames.RoundRobin)
            .WithAppCookie(disableFallback: disableFallback, timeoutSeconds: timeoutSeconds);

    private LoadBalancerRuntime Create(LoadBalancerConfig config) =>
        new(config, Ring(1), _clock, new SeededRandomSource(20250101));

    private void MakeUnavailable(LoadBalancerRuntime runtime, LoadBalancerConfig config, int nodeId, Unavailability reason)
    {
        if (reason == Unavailability.PassiveHealth)
        {
            runtime.Snapshot.FindNode(nodeId)!.Counters.MarkUnavailable(_clock.GetTimestamp() + TimeSpan.FromMinutes(1).Ticks);
            return;
        }

        runtime.Apply(config with
        {
            Nodes = [.. config.Nodes.Select(n => n.Id != nodeId ? n : reason == Unavailability.Disabled
                ? n with { Condition = NodeCondition.Disabled }
                : n with { Status = NodeStatus.Offline })],
        });
    }
}

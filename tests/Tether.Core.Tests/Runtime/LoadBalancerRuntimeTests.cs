using Microsoft.Extensions.Time.Testing;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.Runtime;

public sealed class LoadBalancerRuntimeTests
{
    private readonly FakeTimeProvider _clock = Clock();

    public enum Unavailability
    {
        Disabled,
        Offline,
        Removed,
        PassiveHealth,
    }

    // ---------------------------------------------------------------- no persistence, tiers

    [Fact]
    public void Select_NoPersistence_IsBalancedWithoutCookie()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)).WithAlgorithm(AlgorithmNames.RoundRobin));

        var selections = Enumerable.Range(0, 6).Select(_ => runtime.Select([], ClientKey(1))).ToArray();

        Assert.All(selections, s => Assert.Equal(SelectionOutcome.Balanced, s.Outcome));
        Assert.All(selections, s => Assert.False(s.IssueCookie));
        Assert.Equal([1, 2, 3, 1, 2, 3], selections.Select(s => s.Node!.Id));
        Assert.Null(runtime.Snapshot.PersistenceType);
    }

    [Fact]
    public void Select_NoPersistenceIgnoresCookieAndClientKey_StillRotates()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithAlgorithm(AlgorithmNames.RoundRobin));
        var value = PersistenceCookie.Encode(runtime.Keys, LoadBalancerId, 2, Start.ToUnixTimeSeconds());

        Assert.Equal(1, runtime.Select(value, ClientKey(1)).Node!.Id);
        Assert.Equal(2, runtime.Select(value, ClientKey(1)).Node!.Id);
        Assert.Equal(1, runtime.Select(value, ClientKey(1)).Node!.Id);
    }

    [Fact]
    public void Select_PrimaryAvailable_NeverUsesSecondary()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2, type: NodeType.Secondary), Node(3)));

        var ids = Enumerable.Range(0, 200).Select(_ => runtime.Select([], default).Node!.Id).ToList();

        Assert.DoesNotContain(2, ids);
        Assert.Contains(1, ids);
        Assert.Contains(3, ids);
    }

    [Theory]
    [InlineData(NodeCondition.Disabled, NodeStatus.Online)]
    [InlineData(NodeCondition.Draining, NodeStatus.Online)]
    [InlineData(NodeCondition.Enabled, NodeStatus.Offline)]
    public void Select_NoPrimaryAvailable_UsesSecondaries(NodeCondition condition, NodeStatus status)
    {
        var runtime = Create(LoadBalancer(
            Node(1, condition: condition, status: status),
            Node(2, type: NodeType.Secondary),
            Node(3, type: NodeType.Secondary)));

        var ids = Enumerable.Range(0, 100).Select(_ => runtime.Select([], default).Node!.Id).ToList();

        Assert.DoesNotContain(1, ids);
        Assert.Contains(2, ids);
        Assert.Contains(3, ids);
    }

    [Fact]
    public void Select_PrimaryPassivelyUnavailable_UsesSecondaryUntilHoldEnds()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2, type: NodeType.Secondary)));
        var primary = runtime.Snapshot.FindNode(1)!;
        primary.Counters.MarkUnavailable(_clock.GetTimestamp() + TimeSpan.FromSeconds(10).Ticks);

        Assert.Equal(2, runtime.Select([], default).Node!.Id);

        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, runtime.Select([], default).Node!.Id);
    }

    [Fact]
    public void Select_NothingAvailable_IsNoNodeAvailable()
    {
        var runtime = Create(LoadBalancer(
            Node(1, condition: NodeCondition.Disabled),
            Node(2, type: NodeType.Secondary, status: NodeStatus.Offline)));

        var selection = runtime.Select([], default);

        Assert.Equal(new Selection(null, SelectionOutcome.NoNodeAvailable, false), selection);
    }

    [Fact]
    public void Select_NoNodesAtAll_IsNoNodeAvailable()
    {
        var runtime = Create(LoadBalancer().WithSourceIp());

        Assert.Equal(SelectionOutcome.NoNodeAvailable, runtime.Select([], ClientKey(1)).Outcome);
        Assert.Null(runtime.Snapshot.Maglev);
        Assert.Equal(0, runtime.StickTable.Count);
    }

    [Fact]
    public void Apply_SameNodes_CountersSurvive()
    {
        var config = LoadBalancer(Node(1), Node(2)).WithAlgorithm(AlgorithmNames.LeastConnections);
        var runtime = Create(config);
        runtime.Snapshot.FindNode(1)!.Counters.OnStart();
        runtime.Snapshot.FindNode(1)!.Counters.OnStart();

        runtime.Apply(config with { Nodes = [Node(1, weight: 5), Node(2)] });

        Assert.Equal(2, runtime.Snapshot.FindNode(1)!.Counters.Active);
        Assert.Equal(5, runtime.Snapshot.FindNode(1)!.Weight);
        Assert.Equal(2, runtime.Select([], default).Node!.Id);
    }

    [Fact]
    public void Apply_NodeRemovedAndReAdded_StartsWithFreshCounters()
    {
        var config = LoadBalancer(Node(1), Node(2));
        var runtime = Create(config);
        runtime.Snapshot.FindNode(2)!.Counters.OnStart();

        runtime.Apply(config with { Nodes = [Node(1)] });
        runtime.Apply(config);

        Assert.Equal(0, runtime.Snapshot.FindNode(2)!.Counters.Active);
    }

    // ---------------------------------------------------------------- HTTP_COOKIE

    [Fact]
    public void Select_CookieNoCookie_IsBalancedAndIssuesCookie()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithCookie());

        var selection = runtime.Select([], default);

        Assert.Equal(SelectionOutcome.Balanced, selection.Outcome);
        Assert.True(selection.IssueCookie);
        Assert.NotNull(selection.Node);
    }

    [Fact]
    public void BuildSetCookie_Defaults_HasNameValueAndAttributes()
    {
        var runtime = Create(LoadBalancer(Node(1)).WithCookie());

        var header = runtime.BuildSetCookie(runtime.Snapshot, runtime.Snapshot.FindNode(1)!);

        var value = CookieValue(header);
        Assert.Equal(PersistenceCookie.EncodedLength, value.Length);
        Assert.Equal($"tether-7={value}; Max-Age=1200; Path=/; HttpOnly; SameSite=Lax", header);
    }

    [Fact]
    public void BuildSetCookie_CustomAttributes_AreRendered()
    {
        var config = LoadBalancer(Node(1)) with
        {
            SessionPersistence = new SessionPersistenceConfig
            {
                Type = PersistenceType.HttpCookie,
                CookieName = "affinity",
                PersistenceTimeoutSeconds = 600,
                CookiePath = "/app",
                CookieDomain = "example.com",
                CookieSecure = true,
                CookieHttpOnly = false,
                CookieSameSite = "None",
            },
        };
        var runtime = Create(config);

        var header = runtime.BuildSetCookie(runtime.Snapshot, runtime.Snapshot.FindNode(1)!);

        Assert.Equal($"affinity={CookieValue(header)}; Max-Age=600; Path=/app; Domain=example.com; Secure; SameSite=None", header);
        Assert.Equal(60, runtime.Snapshot.CookieRefreshSeconds);
    }

    [Fact]
    public void Select_IssuedCookie_IsPersistedToSameNode()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)).WithCookie());
        var first = runtime.Select([], default);
        var value = IssueFor(runtime, first.Node!);

        for (var i = 0; i < 20; i++)
        {
            var selection = runtime.Select(value, default);
            Assert.Equal(SelectionOutcome.Persisted, selection.Outcome);
            Assert.Same(first.Node, selection.Node);
            Assert.False(selection.IssueCookie);
        }
    }

    [Fact]
    public void Select_IssuedCookieForEveryNode_EachIsPersistedToItsNode()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)).WithCookie());

        foreach (var node in runtime.Snapshot.Nodes)
        {
            var selection = runtime.Select(IssueFor(runtime, node), default);
            Assert.Equal(SelectionOutcome.Persisted, selection.Outcome);
            Assert.Equal(node.Id, selection.Node!.Id);
        }
    }

    [Fact]
    public void Select_CookieOlderThanRefreshInterval_AsksToReissue()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithCookie());
        var value = IssueFor(runtime, runtime.Snapshot.FindNode(2)!);
        Assert.Equal(120, runtime.Snapshot.CookieRefreshSeconds);

        _clock.Advance(TimeSpan.FromSeconds(119));
        var before = runtime.Select(value, default);
        _clock.Advance(TimeSpan.FromSeconds(1));
        var at = runtime.Select(value, default);

        Assert.Equal(new Selection(runtime.Snapshot.FindNode(2), SelectionOutcome.Persisted, false), before);
        Assert.Equal(new Selection(runtime.Snapshot.FindNode(2), SelectionOutcome.Persisted, true), at);
    }

    [Fact]
    public void Select_ReissuedCookie_KeepsSessionAliveBeyondOriginalTimeout()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithCookie(timeoutSeconds: 300));
        var node = runtime.Snapshot.FindNode(2)!;
        var value = IssueFor(runtime, node);

        // Each request 200 s after the previous one refreshes the cookie (refresh interval 30 s).
        for (var i = 0; i < 5; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(200));
            var selection = runtime.Select(value, default);
            Assert.Equal(SelectionOutcome.Persisted, selection.Outcome);
            Assert.True(selection.IssueCookie);
            value = IssueFor(runtime, selection.Node!);
        }

        Assert.Equal(2, runtime.Select(value, default).Node!.Id);
    }

    [Fact]
    public void Select_TamperedCookie_IsTreatedAsAbsent()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithCookie());
        var value = IssueFor(runtime, runtime.Snapshot.FindNode(2)!);
        var chars = value.ToCharArray();
        chars[20] = chars[20] == 'A' ? 'B' : 'A';

        var selection = runtime.Select(new string(chars), default);

        Assert.Equal(SelectionOutcome.Balanced, selection.Outcome);
        Assert.True(selection.IssueCookie);
    }

    [Fact]
    public void Select_ForeignCookie_IsTreatedAsAbsent()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithCookie());
        var other = new LoadBalancerRuntime(
            LoadBalancer(Node(1), Node(2)).WithCookie() with { Id = LoadBalancerId + 1 }, runtime.Keys, _clock, new SeededRandomSource(9));
        var foreign = IssueFor(other, other.Snapshot.FindNode(2)!);

        var selection = runtime.Select(foreign, default);

        Assert.Equal(SelectionOutcome.Balanced, selection.Outcome);
        Assert.True(selection.IssueCookie);
        Assert.Equal(SelectionOutcome.Persisted, other.Select(foreign, default).Outcome);
    }

    [Fact]
    public void Select_CookieSignedWithUnknownKeyRing_IsTreatedAsAbsent()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithCookie());
        var strangerSameId = new CookieKeyRing([new CookieKey(1, Secret(0x5A))]);
        var strangerOtherId = Ring(9);
        var nowUnix = Start.ToUnixTimeSeconds();

        var a = runtime.Select(PersistenceCookie.Encode(strangerSameId, LoadBalancerId, 2, nowUnix), default);
        var b = runtime.Select(PersistenceCookie.Encode(strangerOtherId, LoadBalancerId, 2, nowUnix), default);

        Assert.Equal((SelectionOutcome.Balanced, true), (a.Outcome, a.IssueCookie));
        Assert.Equal((SelectionOutcome.Balanced, true), (b.Outcome, b.IssueCookie));
    }

    [Fact]
    public void Select_ExpiredCookie_IsTreatedAsAbsent()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithCookie(timeoutSeconds: 600));
        var value = IssueFor(runtime, runtime.Snapshot.FindNode(2)!);

        _clock.Advance(TimeSpan.FromSeconds(600));
        var atTimeout = runtime.Select(value, default);
        _clock.Advance(TimeSpan.FromSeconds(1));
        var expired = runtime.Select(value, default);

        Assert.Equal(SelectionOutcome.Persisted, atTimeout.Outcome);
        Assert.Equal(SelectionOutcome.Balanced, expired.Outcome);
        Assert.True(expired.IssueCookie);
    }

    [Fact]
    public void Select_GarbageCookie_IsTreatedAsAbsent()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithCookie());

        var selection = runtime.Select("10.0.0.2:8443", default);

        Assert.Equal((SelectionOutcome.Balanced, true), (selection.Outcome, selection.IssueCookie));
    }

    [Fact]
    public void Select_KeyRotation_OldCookieAcceptedWhileRingHoldsItsKey()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithCookie());
        var old = IssueFor(runtime, runtime.Snapshot.FindNode(2)!);

        runtime.Keys = Ring(1, 2);
        var rotated = runtime.Select(old, default);
        var fresh = IssueFor(runtime, runtime.Snapshot.FindNode(2)!);
        runtime.Keys = Ring(2);
        var retired = runtime.Select(old, default);
        var freshAfterRetire = runtime.Select(fresh, default);

        Assert.Equal((SelectionOutcome.Persisted, 2), (rotated.Outcome, rotated.Node!.Id));
        Assert.Equal(SelectionOutcome.Balanced, retired.Outcome);
        Assert.Equal((SelectionOutcome.Persisted, 2), (freshAfterRetire.Outcome, freshAfterRetire.Node!.Id));
    }

    [Theory]
    [InlineData(Unavailability.Disabled)]
    [InlineData(Unavailability.Offline)]
    [InlineData(Unavailability.Removed)]
    [InlineData(Unavailability.PassiveHealth)]
    public void Select_CookiePinnedNodeUnavailableWithFallback_IsRepinnedWithNewCookie(Unavailability reason)
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithCookie();
        var runtime = Create(config);
        var value = IssueFor(runtime, runtime.Snapshot.FindNode(2)!);

        MakeUnavailable(runtime, config, 2, reason);
        var selections = Enumerable.Range(0, 20).Select(_ => runtime.Select(value, default)).ToList();

        Assert.All(selections, s => Assert.Equal(SelectionOutcome.Repinned, s.Outcome));
        Assert.All(selections, s => Assert.True(s.IssueCookie));
        Assert.All(selections, s => Assert.NotEqual(2, s.Node!.Id));

        // The re-issued cookie pins the client to the new node.
        var repinned = IssueFor(runtime, selections[0].Node!);
        Assert.Equal((SelectionOutcome.Persisted, selections[0].Node!.Id), (runtime.Select(repinned, default).Outcome, runtime.Select(repinned, default).Node!.Id));
    }

    [Theory]
    [InlineData(Unavailability.Disabled)]
    [InlineData(Unavailability.Offline)]
    [InlineData(Unavailability.Removed)]
    [InlineData(Unavailability.PassiveHealth)]
    public void Select_CookiePinnedNodeUnavailableFallbackDisabled_IsRejected(Unavailability reason)
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithCookie(disableFallback: true);
        var runtime = Create(config);
        var value = IssueFor(runtime, runtime.Snapshot.FindNode(2)!);

        MakeUnavailable(runtime, config, 2, reason);
        var selection = runtime.Select(value, default);

        Assert.Equal(new Selection(null, SelectionOutcome.RejectedNoFallback, false), selection);
        // A client without the cookie is still served.
        Assert.Equal(SelectionOutcome.Balanced, runtime.Select([], default).Outcome);
    }

    [Fact]
    public void Select_CookiePinnedNodeBackOnline_IsPersistedAgain()
    {
        var config = LoadBalancer(Node(1), Node(2)).WithCookie(disableFallback: true);
        var runtime = Create(config);
        var value = IssueFor(runtime, runtime.Snapshot.FindNode(2)!);

        runtime.Apply(config with { Nodes = [Node(1), Node(2, status: NodeStatus.Offline)] });
        Assert.Equal(SelectionOutcome.RejectedNoFallback, runtime.Select(value, default).Outcome);
        runtime.Apply(config);

        Assert.Equal((SelectionOutcome.Persisted, 2), (runtime.Select(value, default).Outcome, runtime.Select(value, default).Node!.Id));
    }

    [Fact]
    public void Select_CookiePinnedNodeDraining_IsStillPersistedButNewClientsNeverGetIt()
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithCookie();
        var runtime = Create(config);
        var value = IssueFor(runtime, runtime.Snapshot.FindNode(2)!);

        runtime.Apply(config with { Nodes = [Node(1), Node(2, condition: NodeCondition.Draining), Node(3)] });

        var pinned = runtime.Select(value, default);
        Assert.Equal(new Selection(runtime.Snapshot.FindNode(2), SelectionOutcome.Persisted, false), pinned);
        var fresh = Enumerable.Range(0, 300).Select(_ => runtime.Select([], default)).ToList();
        Assert.All(fresh, s => Assert.Equal(SelectionOutcome.Balanced, s.Outcome));
        Assert.DoesNotContain(fresh, s => s.Node!.Id == 2);
        Assert.Contains(fresh, s => s.Node!.Id == 1);
        Assert.Contains(fresh, s => s.Node!.Id == 3);
    }

    [Fact]
    public void Select_CookiePinnedNodeDisabledAndNoOtherNode_IsNoNodeAvailable()
    {
        var config = LoadBalancer(Node(1), Node(2)).WithCookie();
        var runtime = Create(config);
        var value = IssueFor(runtime, runtime.Snapshot.FindNode(2)!);

        runtime.Apply(config with { Nodes = [Node(1, condition: NodeCondition.Disabled), Node(2, condition: NodeCondition.Disabled)] });

        Assert.Equal(new Selection(null, SelectionOutcome.NoNodeAvailable, false), runtime.Select(value, default));
        Assert.Equal(new Selection(null, SelectionOutcome.NoNodeAvailable, false), runtime.Select([], default));
    }

    [Fact]
    public void Select_CookieNamesNodeNeverHeld_IsRepinned()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithCookie());
        var value = PersistenceCookie.Encode(runtime.Keys, LoadBalancerId, 99, Start.ToUnixTimeSeconds());

        var selection = runtime.Select(value, default);

        Assert.Equal(SelectionOutcome.Repinned, selection.Outcome);
        Assert.True(selection.Node!.Id is 1 or 2);
    }

    // ---------------------------------------------------------------- SOURCE_IP

    [Fact]
    public void Select_SourceIpSameClient_AlwaysSameNode()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp());
        var client = ClientKey(42);

        var first = runtime.Select([], client);
        var later = Enumerable.Range(0, 50).Select(_ => runtime.Select([], client)).ToList();

        Assert.Equal(SelectionOutcome.Hashed, first.Outcome);
        Assert.False(first.IssueCookie);
        Assert.Same(runtime.Snapshot.Maglev!.Lookup(StableHash.Of(client)), first.Node);
        Assert.All(later, s => Assert.Equal(new Selection(first.Node, SelectionOutcome.Persisted, false), s));
        Assert.Equal(1, runtime.StickTable.Count);
    }

    [Fact]
    public void Select_SourceIpSameClientOnTwoInstances_GetsSameNode()
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp();
        var a = Create(config);
        var b = new LoadBalancerRuntime(config, Ring(1), Clock(), new SeededRandomSource(999));

        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(a.Select([], ClientKey(i)).Node!.Id, b.Select([], ClientKey(i)).Node!.Id);
        }
    }

    [Fact]
    public void Select_SourceIp1000Clients_EachOfThreeNodesGetsAtLeast20Percent()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp());

        var histogram = Enumerable.Range(0, 1000)
            .Select(i => runtime.Select([], ClientKey(i)).Node!.Id)
            .GroupBy(id => id)
            .ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(3, histogram.Count);
        Assert.All(histogram.Values, count => Assert.True(count >= 200, $"{count} of 1000"));
        Assert.Equal(1000, runtime.StickTable.Count);
    }

    [Fact]
    public void Apply_SourceIpFourthNodeAdded_NoPinnedClientMoves()
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp();
        var runtime = Create(config);
        var before = Enumerable.Range(0, 1000).Select(i => runtime.Select([], ClientKey(i)).Node!.Id).ToArray();

        runtime.Apply(config with { Nodes = [Node(1), Node(2), Node(3), Node(4)] });
        var after = Enumerable.Range(0, 1000).Select(i => runtime.Select([], ClientKey(i))).ToArray();
        var newcomers = Enumerable.Range(1000, 1000).Select(i => runtime.Select([], ClientKey(i)).Node!.Id).ToArray();

        Assert.Equal(1000, runtime.StickTable.Count - 1000);
        Assert.All(after, s => Assert.Equal(SelectionOutcome.Persisted, s.Outcome));
        Assert.Equal(before, after.Select(s => s.Node!.Id));
        // Consistent hashing sends about a quarter of the new clients to the new node.
        Assert.InRange(newcomers.Count(id => id == 4), 150, 350);
    }

    [Fact]
    public void Select_SourceIpAfterTtl_ClientIsRehashedToCurrentTable()
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp(timeoutSeconds: 600);
        var runtime = Create(config);
        for (var i = 0; i < 1000; i++)
        {
            runtime.Select([], ClientKey(i));
        }

        runtime.Apply(config with { Nodes = [Node(1), Node(2), Node(3), Node(4)] });
        // A client whose hash now points at node 4 stays on its old node while its entry lives.
        var mover = Enumerable.Range(0, 1000).First(i => runtime.Snapshot.Maglev!.Lookup(StableHash.Of(ClientKey(i))).Id == 4);
        var pinned = runtime.Select([], ClientKey(mover));
        Assert.Equal(SelectionOutcome.Persisted, pinned.Outcome);
        Assert.NotEqual(4, pinned.Node!.Id);

        _clock.Advance(TimeSpan.FromSeconds(600));
        Assert.Equal(SelectionOutcome.Persisted, runtime.Select([], ClientKey(mover)).Outcome); // idle exactly the TTL: still live, refreshed
        _clock.Advance(TimeSpan.FromSeconds(601));
        var rehashed = runtime.Select([], ClientKey(mover));

        Assert.Equal(new Selection(runtime.Snapshot.FindNode(4), SelectionOutcome.Hashed, false), rehashed);
        Assert.Equal(new Selection(runtime.Snapshot.FindNode(4), SelectionOutcome.Persisted, false), runtime.Select([], ClientKey(mover)));
    }

    [Fact]
    public void PurgeExpired_SourceIp_RemovesOnlyIdleEntries()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithSourceIp(timeoutSeconds: 60));
        for (var i = 0; i < 10; i++)
        {
            runtime.Select([], ClientKey(i));
        }

        _clock.Advance(TimeSpan.FromSeconds(30));
        for (var i = 0; i < 3; i++)
        {
            runtime.Select([], ClientKey(i)); // refreshed at t = 30 s
        }

        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(0, runtime.PurgeExpired());
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(7, runtime.PurgeExpired());
        Assert.Equal(3, runtime.StickTable.Count);
        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(3, runtime.PurgeExpired());
        Assert.Equal(0, runtime.StickTable.Count);
    }

    [Fact]
    public void PurgeExpired_NotSourceIp_ReturnsZero()
    {
        var runtime = Create(LoadBalancer(Node(1)).WithCookie(timeoutSeconds: 60));
        _clock.Advance(TimeSpan.FromHours(1));

        Assert.Equal(0, runtime.PurgeExpired());
    }

    [Fact]
    public void Apply_SourceIpPinnedNodeDraining_KeepsItsClientsAndGetsNoNewOnes()
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp();
        var runtime = Create(config);
        var before = Enumerable.Range(0, 300).Select(i => runtime.Select([], ClientKey(i)).Node!.Id).ToArray();
        Assert.Contains(2, before);

        runtime.Apply(config with { Nodes = [Node(1), Node(2, condition: NodeCondition.Draining), Node(3)] });
        var after = Enumerable.Range(0, 300).Select(i => runtime.Select([], ClientKey(i))).ToArray();
        var newcomers = Enumerable.Range(300, 300).Select(i => runtime.Select([], ClientKey(i)).Node!.Id).ToArray();

        Assert.All(after, s => Assert.Equal(SelectionOutcome.Persisted, s.Outcome));
        Assert.Equal(before, after.Select(s => s.Node!.Id));
        Assert.DoesNotContain(2, newcomers);
        Assert.False(runtime.Snapshot.Maglev!.CountEntries().ContainsKey(2));
    }

    [Fact]
    public void Apply_SourceIpNodeRemoved_DropsItsStickEntriesAndRehashesItsClients()
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp();
        var runtime = Create(config);
        var before = Enumerable.Range(0, 300).Select(i => runtime.Select([], ClientKey(i)).Node!.Id).ToArray();
        var onNode3 = before.Count(id => id == 3);
        Assert.True(onNode3 > 0);

        runtime.Apply(config with { Nodes = [Node(1), Node(2)] });

        Assert.Equal(300 - onNode3, runtime.StickTable.Count);
        Assert.DoesNotContain(runtime.StickTable.Snapshot(_clock.GetTimestamp()), e => e.NodeId == 3);
        for (var i = 0; i < 300; i++)
        {
            var selection = runtime.Select([], ClientKey(i));
            Assert.Equal(before[i] == 3 ? SelectionOutcome.Hashed : SelectionOutcome.Persisted, selection.Outcome);
            Assert.Equal(before[i] == 3 ? selection.Node!.Id : before[i], selection.Node!.Id);
            Assert.NotEqual(3, selection.Node!.Id);
        }
    }

    [Theory]
    [InlineData(Unavailability.Disabled)]
    [InlineData(Unavailability.Offline)]
    [InlineData(Unavailability.PassiveHealth)]
    public void Select_SourceIpPinnedNodeUnavailable_IsRepinnedAndStaysOnNewNode(Unavailability reason)
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp();
        var runtime = Create(config);
        var client = Enumerable.Range(0, 100).Select(ClientKey).First(k => runtime.Select([], k).Node!.Id == 2);

        MakeUnavailable(runtime, config, 2, reason);
        var repinned = runtime.Select([], client);
        var next = runtime.Select([], client);

        Assert.Equal(SelectionOutcome.Repinned, repinned.Outcome);
        Assert.NotEqual(2, repinned.Node!.Id);
        Assert.Equal(new Selection(repinned.Node, SelectionOutcome.Persisted, false), next);
    }

    [Theory]
    [InlineData(Unavailability.Disabled)]
    [InlineData(Unavailability.Offline)]
    [InlineData(Unavailability.PassiveHealth)]
    public void Select_SourceIpPinnedNodeUnavailableFallbackDisabled_IsRejected(Unavailability reason)
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp(disableFallback: true);
        var runtime = Create(config);
        var client = Enumerable.Range(0, 100).Select(ClientKey).First(k => runtime.Select([], k).Node!.Id == 2);

        MakeUnavailable(runtime, config, 2, reason);

        Assert.Equal(new Selection(null, SelectionOutcome.RejectedNoFallback, false), runtime.Select([], client));
    }

    [Fact]
    public void Select_SourceIpHashedNodePassivelyUnavailable_FallsBackToAlgorithm()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithSourceIp());
        var client = Enumerable.Range(0, 100).Select(ClientKey)
            .First(k => runtime.Snapshot.Maglev!.Lookup(StableHash.Of(k)).Id == 1);
        runtime.Snapshot.FindNode(1)!.Counters.MarkUnavailable(_clock.GetTimestamp() + TimeSpan.FromSeconds(5).Ticks);

        var selection = runtime.Select([], client);

        Assert.Equal(new Selection(runtime.Snapshot.FindNode(2), SelectionOutcome.Balanced, false), selection);
        Assert.True(runtime.StickTable.TryGet(client, _clock.GetTimestamp(), out var stuck));
        Assert.Equal(2, stuck);
    }

    [Fact]
    public void Select_SourceIpNoPrimaryEnabled_HashesOverSecondaries()
    {
        var runtime = Create(LoadBalancer(
            Node(1, condition: NodeCondition.Disabled),
            Node(2, type: NodeType.Secondary),
            Node(3, type: NodeType.Secondary)).WithSourceIp());

        var ids = Enumerable.Range(0, 200).Select(i => runtime.Select([], ClientKey(i))).ToList();

        Assert.All(ids, s => Assert.Equal(SelectionOutcome.Hashed, s.Outcome));
        Assert.DoesNotContain(ids, s => s.Node!.Id == 1);
        Assert.Equal(2, ids.Select(s => s.Node!.Id).Distinct().Count());
    }

    [Fact]
    public void Select_SourceIpWithPrimary_NeverHashesToSecondary()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2, type: NodeType.Secondary)).WithSourceIp());

        Assert.All(Enumerable.Range(0, 200), i => Assert.Equal(1, runtime.Select([], ClientKey(i)).Node!.Id));
        Assert.Equal([1], runtime.Snapshot.Maglev!.CountEntries().Keys);
    }

    [Fact]
    public void Statistics_CountEveryOutcome()
    {
        var config = LoadBalancer(Node(1), Node(2)).WithSourceIp(disableFallback: true);
        var runtime = Create(config);
        var client = Enumerable.Range(0, 100).Select(ClientKey).First(k => runtime.Snapshot.Maglev!.Lookup(StableHash.Of(k)).Id == 2);

        runtime.Select([], client);                    // Hashed
        runtime.Select([], client);                    // Persisted
        runtime.Select([], client);                    // Persisted
        runtime.Select([], ClientKey(500));            // Hashed
        runtime.Apply(config with { Nodes = [Node(1), Node(2, condition: NodeCondition.Disabled)] });
        runtime.Select([], client);                    // RejectedNoFallback
        runtime.Apply(config with { Nodes = [Node(1, condition: NodeCondition.Disabled), Node(2, condition: NodeCondition.Disabled)] });
        runtime.Select([], ClientKey(501));            // NoNodeAvailable
        runtime.Apply(config with { Nodes = [Node(1), Node(2, condition: NodeCondition.Disabled)], SessionPersistence = null });
        runtime.Select([], default);                   // Balanced

        var stats = runtime.Statistics;
        Assert.Equal(2, stats.Get(SelectionOutcome.Hashed));
        Assert.Equal(2, stats.Get(SelectionOutcome.Persisted));
        Assert.Equal(1, stats.Get(SelectionOutcome.RejectedNoFallback));
        Assert.Equal(1, stats.Get(SelectionOutcome.NoNodeAvailable));
        Assert.Equal(1, stats.Get(SelectionOutcome.Balanced));
        Assert.Equal(0, stats.Get(SelectionOutcome.Repinned));
    }

    [Fact]
    public void Statistics_CookieOutcomes_AreCounted()
    {
        var config = LoadBalancer(Node(1), Node(2)).WithCookie();
        var runtime = Create(config);
        var value = IssueFor(runtime, runtime.Snapshot.FindNode(2)!);

        runtime.Select([], default);      // Balanced
        runtime.Select(value, default);   // Persisted
        runtime.Apply(config with { Nodes = [Node(1)] });
        runtime.Select(value, default);   // Repinned

        Assert.Equal(1, runtime.Statistics.Get(SelectionOutcome.Balanced));
        Assert.Equal(1, runtime.Statistics.Get(SelectionOutcome.Persisted));
        Assert.Equal(1, runtime.Statistics.Get(SelectionOutcome.Repinned));
        Assert.Equal(0, runtime.Statistics.Get(SelectionOutcome.Hashed));
    }

    [Fact]
    public void Apply_PersistenceTypeChanged_ClearsStickTable()
    {
        var config = LoadBalancer(Node(1), Node(2)).WithSourceIp();
        var runtime = Create(config);
        for (var i = 0; i < 20; i++)
        {
            runtime.Select([], ClientKey(i));
        }

        Assert.Equal(20, runtime.StickTable.Count);

        runtime.Apply(config.WithCookie());
        Assert.Equal(0, runtime.StickTable.Count);

        runtime.Apply(config);
        Assert.Equal(0, runtime.StickTable.Count);
        Assert.Equal(SelectionOutcome.Hashed, runtime.Select([], ClientKey(0)).Outcome);
    }

    [Fact]
    public void Apply_PersistenceDisabled_ClearsStickTable()
    {
        var config = LoadBalancer(Node(1), Node(2)).WithSourceIp();
        var runtime = Create(config);
        runtime.Select([], ClientKey(1));

        runtime.Apply(config with { SessionPersistence = null });

        Assert.Equal(0, runtime.StickTable.Count);
    }

    [Fact]
    public void Apply_SamePersistenceTypeOtherTimeout_KeepsStickTable()
    {
        var config = LoadBalancer(Node(1), Node(2)).WithSourceIp(timeoutSeconds: 600);
        var runtime = Create(config);
        var first = runtime.Select([], ClientKey(1)).Node!.Id;

        runtime.Apply(config.WithSourceIp(timeoutSeconds: 1200));

        Assert.Equal(1, runtime.StickTable.Count);
        Assert.Equal(1200L * _clock.TimestampFrequency, runtime.Snapshot.TtlTicks);
        Assert.Equal(1200L * _clock.TimestampFrequency, runtime.StickTable.Ttl); // the table owns the new TTL
        Assert.Equal((SelectionOutcome.Persisted, first), (runtime.Select([], ClientKey(1)).Outcome, runtime.Select([], ClientKey(1)).Node!.Id));
    }

    // ---------------------------------------------------------------- helpers

    private LoadBalancerRuntime Create(LoadBalancerConfig config) =>
        new(config, Ring(1), _clock, new SeededRandomSource(20250101));

    /// <summary>Issues a cookie the way the proxy does and parses its value out of the Set-Cookie header.</summary>
    private static string IssueFor(LoadBalancerRuntime runtime, NodeState node) =>
        CookieValue(runtime.BuildSetCookie(runtime.Snapshot, node));

    private void MakeUnavailable(LoadBalancerRuntime runtime, LoadBalancerConfig config, int nodeId, Unavailability reason)
    {
        switch (reason)
        {
            case Unavailability.PassiveHealth:
                runtime.Snapshot.FindNode(nodeId)!.Counters.MarkUnavailable(_clock.GetTimestamp() + TimeSpan.FromMinutes(1).Ticks);
                return;
            case Unavailability.Removed:
                runtime.Apply(config with { Nodes = [.. config.Nodes.Where(n => n.Id != nodeId)] });
                return;
            default:
                runtime.Apply(config with
                {
                    Nodes = [.. config.Nodes.Select(n => n.Id != nodeId ? n : reason == Unavailability.Disabled
                        ? n with { Condition = NodeCondition.Disabled }
                        : n with { Status = NodeStatus.Offline })],
                });
                return;
        }
    }
}

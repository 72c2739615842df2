using Microsoft.Extensions.Time.Testing;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.Runtime;

/// <summary><see cref="LoadBalancerRuntime.Explain(in PersistenceRequest)"/>: the persistence API's lookup, which must say what
/// <see cref="LoadBalancerRuntime.Select(LoadBalancerSnapshot, in PersistenceRequest)"/> would do without changing anything.</summary>
public sealed class LoadBalancerRuntimeExplainTests
{
    private static readonly UInt128 AppKey = StableHash.OfCookie("SESSIONID", "alice-0001");

    private readonly FakeTimeProvider _clock = Clock();

    // ---------------------------------------------------------------- no persistence

    [Fact]
    public void Explain_NoPersistence_IsBalancedWithoutNode()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)));

        Assert.Equal(new PersistenceExplanation(null, "balanced"), runtime.Explain([], ClientKey(1)));
    }

    // ---------------------------------------------------------------- HTTP_COOKIE

    [Fact]
    public void Explain_CookieValid_IsPersistedToCookieNode()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)).WithCookie());
        var value = CookieValue(runtime.BuildSetCookie(runtime.Snapshot, runtime.Snapshot.FindNode(2)!, 77));

        var explanation = runtime.Explain(value, default);

        Assert.Equal(new PersistenceExplanation(runtime.Snapshot.FindNode(2), "persisted"), explanation);
    }

    [Fact]
    public void Explain_CookieNone_IsBalancedWithoutNode()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithCookie());

        Assert.Equal(new PersistenceExplanation(null, "balanced"), runtime.Explain([], default));
    }

    [Fact]
    public void Explain_CookieTamperedOrExpired_IsBalanced()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithCookie(timeoutSeconds: 60));
        var value = CookieValue(runtime.BuildSetCookie(runtime.Snapshot, runtime.Snapshot.FindNode(2)!, 77));
        var chars = value.ToCharArray();
        chars[30] = chars[30] == 'A' ? 'B' : 'A';

        var tampered = runtime.Explain(new string(chars), default);
        _clock.Advance(TimeSpan.FromSeconds(61));
        var expired = runtime.Explain(value, default);

        Assert.Equal(new PersistenceExplanation(null, "balanced"), tampered);
        Assert.Equal(new PersistenceExplanation(null, "balanced"), expired);
    }

    [Fact]
    public void Explain_CookiePinnedNodeDisabledFallbackDisabled_IsRejected()
    {
        var config = LoadBalancer(Node(1), Node(2)).WithCookie(disableFallback: true);
        var runtime = Create(config);
        var value = CookieValue(runtime.BuildSetCookie(runtime.Snapshot, runtime.Snapshot.FindNode(2)!, 77));

        runtime.Apply(config with { Nodes = [Node(1), Node(2, condition: NodeCondition.Disabled)] });

        Assert.Equal(new PersistenceExplanation(runtime.Snapshot.FindNode(2), "rejected"), runtime.Explain(value, default));
        Assert.Equal(SelectionOutcome.RejectedNoFallback, runtime.Select(value, default).Outcome);
    }

    [Fact]
    public void Explain_CookiePinnedNodeDisabledFallbackEnabled_IsBalanced()
    {
        var config = LoadBalancer(Node(1), Node(2)).WithCookie();
        var runtime = Create(config);
        var value = CookieValue(runtime.BuildSetCookie(runtime.Snapshot, runtime.Snapshot.FindNode(2)!, 77));

        runtime.Apply(config with { Nodes = [Node(1), Node(2, condition: NodeCondition.Disabled)] });

        Assert.Equal(new PersistenceExplanation(null, "balanced"), runtime.Explain(value, default));
    }

    [Fact]
    public void Explain_CookieOfUnpinnedNode_IsBalanced()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithCookie(disableFallback: true));
        var value = CookieValue(runtime.BuildSetCookie(runtime.Snapshot, runtime.Snapshot.FindNode(2)!, 77));

        _clock.Advance(TimeSpan.FromSeconds(1));
        runtime.UnpinNode(2);

        Assert.Equal(new PersistenceExplanation(null, "balanced"), runtime.Explain(value, default));
    }

    [Fact]
    public void Explain_Cookie_HasNoSideEffects()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithCookie());
        var value = CookieValue(runtime.BuildSetCookie(runtime.Snapshot, runtime.Snapshot.FindNode(2)!, 77));

        runtime.Explain(value, default);
        runtime.Explain([], default);

        Assert.Equal(0, runtime.StickTable.Count);
        Assert.Equal(0, runtime.Snapshot.FindNode(2)!.Counters.LastPersisted);
        Assert.All(Enum.GetValues<SelectionOutcome>(), o => Assert.Equal(0, runtime.Statistics.Get(o)));
    }

    // ---------------------------------------------------------------- SOURCE_IP

    [Fact]
    public void Explain_SourceIpUnknownClient_IsHashedToMaglevNodeWithoutPinning()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp());
        var client = ClientKey(42);
        var expected = runtime.Snapshot.Maglev!.Lookup(StableHash.Of(client));

        var explanation = runtime.Explain([], client);

        Assert.Equal(new PersistenceExplanation(expected, "hashed"), explanation);
        Assert.Equal(0, runtime.StickTable.Count);
        Assert.Equal(0, runtime.Statistics.Get(SelectionOutcome.Hashed));
        Assert.Equal(new Selection(expected, SelectionOutcome.Hashed, false), runtime.Select([], client));
    }

    [Fact]
    public void Explain_SourceIpAfterSelect_IsPersistedToPinnedNode()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp());
        var client = ClientKey(42);
        var selected = runtime.Select([], client);

        var explanation = runtime.Explain([], client);

        Assert.Equal(new PersistenceExplanation(selected.Node, "persisted"), explanation);
        Assert.Equal(1, runtime.StickTable.Count);
        Assert.Equal(0, runtime.Statistics.Get(SelectionOutcome.Persisted));
    }

    [Fact]
    public void Explain_SourceIpPinnedAwayFromHash_IsPersistedToPinnedNode()
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp();
        var runtime = Create(config);
        for (var i = 0; i < 300; i++)
        {
            runtime.Select([], ClientKey(i));
        }

        runtime.Apply(config with { Nodes = [Node(1), Node(2), Node(3), Node(4)] });
        var mover = Enumerable.Range(0, 300).Select(ClientKey).First(k => runtime.Snapshot.Maglev!.Lookup(StableHash.Of(k)).Id == 4);

        var explanation = runtime.Explain([], mover);

        Assert.Equal("persisted", explanation.Reason);
        Assert.NotEqual(4, explanation.Node!.Id);
        Assert.Equal(runtime.Select([], mover).Node, explanation.Node);
    }

    [Fact]
    public void Explain_SourceIp_DoesNotRefreshThePin()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp(timeoutSeconds: 60));
        var client = ClientKey(42);
        var selected = runtime.Select([], client);

        _clock.Advance(TimeSpan.FromSeconds(59));
        var before = runtime.Explain([], client);
        _clock.Advance(TimeSpan.FromSeconds(2));
        var after = runtime.Explain([], client);

        Assert.Equal(new PersistenceExplanation(selected.Node, "persisted"), before);
        Assert.Equal(new PersistenceExplanation(selected.Node, "hashed"), after);
        Assert.Equal(SelectionOutcome.Hashed, runtime.Select([], client).Outcome);
    }

    [Fact]
    public void Explain_SourceIpPinnedNodeDisabledFallbackDisabled_IsRejected()
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp(disableFallback: true);
        var runtime = Create(config);
        var client = Enumerable.Range(0, 100).Select(ClientKey).First(k => runtime.Select([], k).Node!.Id == 2);

        runtime.Apply(config with { Nodes = [Node(1), Node(2, condition: NodeCondition.Disabled), Node(3)] });

        Assert.Equal(new PersistenceExplanation(runtime.Snapshot.FindNode(2), "rejected"), runtime.Explain([], client));
        Assert.Equal(SelectionOutcome.RejectedNoFallback, runtime.Select([], client).Outcome);
    }

    [Fact]
    public void Explain_SourceIpPinnedNodeDisabledFallbackEnabled_IsHashedOverRemainingNodes()
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp();
        var runtime = Create(config);
        var client = Enumerable.Range(0, 100).Select(ClientKey).First(k => runtime.Select([], k).Node!.Id == 2);

        runtime.Apply(config with { Nodes = [Node(1), Node(2, condition: NodeCondition.Disabled), Node(3)] });
        var explanation = runtime.Explain([], client);

        Assert.Equal("hashed", explanation.Reason);
        Assert.Same(runtime.Snapshot.Maglev!.Lookup(StableHash.Of(client)), explanation.Node);
        Assert.NotEqual(2, explanation.Node!.Id);
        Assert.Equal(new Selection(explanation.Node, SelectionOutcome.Repinned, false), runtime.Select([], client));
    }

    [Fact]
    public void Explain_SourceIpNoNodeAvailable_IsBalancedWithoutNode()
    {
        var runtime = Create(LoadBalancer(Node(1, condition: NodeCondition.Disabled)).WithSourceIp());

        Assert.Equal(new PersistenceExplanation(null, "balanced"), runtime.Explain([], ClientKey(1)));
    }

    // ---------------------------------------------------------------- APP_COOKIE

    [Fact]
    public void Explain_AppCookieLearnedKey_IsPersisted()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)).WithAppCookie());
        runtime.LearnAppCookie(AppKey, 3);

        Assert.Equal(new PersistenceExplanation(runtime.Snapshot.FindNode(3), "persisted"), runtime.Explain([], AppKey));
    }

    [Fact]
    public void Explain_AppCookieUnknownOrZeroKey_IsBalanced()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)).WithAppCookie());
        runtime.LearnAppCookie(AppKey, 3);

        Assert.Equal(new PersistenceExplanation(null, "balanced"), runtime.Explain([], StableHash.OfCookie("SESSIONID", "other")));
        Assert.Equal(new PersistenceExplanation(null, "balanced"), runtime.Explain([], UInt128.Zero));
        Assert.Equal(1, runtime.StickTable.Count);
    }

    [Fact]
    public void Explain_AppCookiePinnedNodeDisabledFallbackDisabled_IsRejected()
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithAppCookie(disableFallback: true);
        var runtime = Create(config);
        runtime.LearnAppCookie(AppKey, 3);

        runtime.Apply(config with { Nodes = [Node(1), Node(2), Node(3, condition: NodeCondition.Disabled)] });

        Assert.Equal(new PersistenceExplanation(runtime.Snapshot.FindNode(3), "rejected"), runtime.Explain([], AppKey));
    }

    [Fact]
    public void Explain_AppCookie_DoesNotRefreshThePin()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithAppCookie(timeoutSeconds: 60));
        runtime.LearnAppCookie(AppKey, 2);

        _clock.Advance(TimeSpan.FromSeconds(59));
        var before = runtime.Explain([], AppKey);
        _clock.Advance(TimeSpan.FromSeconds(2));
        var after = runtime.Explain([], AppKey);

        Assert.Equal(new PersistenceExplanation(runtime.Snapshot.FindNode(2), "persisted"), before);
        Assert.Equal(new PersistenceExplanation(null, "balanced"), after);
    }

    private LoadBalancerRuntime Create(LoadBalancerConfig config) =>
        new(config, Ring(1), _clock, new SeededRandomSource(20250101));
}

using Microsoft.Extensions.Time.Testing;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.SessionPersistence;

/// <summary>The policy family (issue 13): the registry, the failure policy, and the lookup (Explain) running the
/// request's own decision read-only, so that it agrees with Select for every type and many clients.</summary>
public sealed class PersistencePolicyTests
{
    private readonly FakeTimeProvider _clock = Clock();

    [Fact]
    public void Registry_EveryType_HasOnePolicyWhoseNameRoundTrips()
    {
        foreach (var type in Enum.GetValues<PersistenceType>())
        {
            var policy = PersistencePolicies.For(type);

            Assert.Equal(type, policy.Type);
            Assert.True(PersistenceTypeNames.TryParse(policy.Name, out var parsed));
            Assert.Equal(type, parsed);
        }

        Assert.Same(PersistencePolicies.None, PersistencePolicies.For(null));
        Assert.False(PersistenceTypeNames.TryParse("NONE", out _));
    }

    [Fact]
    public void Snapshot_PolicyAndFailurePolicy_FollowTheConfiguration()
    {
        var config = LoadBalancer(Node(1), Node(2));

        Assert.IsType<SourceIpPolicy>(Create(config.WithSourceIp()).Snapshot.Persistence);
        Assert.IsType<FallbackAndRepin>(Create(config.WithSourceIp()).Snapshot.FailurePolicy);
        Assert.IsType<FailWithoutFallback>(Create(config.WithSourceIp(disableFallback: true)).Snapshot.FailurePolicy);
        Assert.IsType<BalancedPolicy>(Create(config).Snapshot.Persistence);
        Assert.NotNull(Create(config.WithSourceIp()).Snapshot.Maglev);
        Assert.Null(Create(config.WithCookie()).Snapshot.Maglev);
    }

    [Fact]
    public void StickTable_OwnsTheTimeout_AndFollowsAnAppliedChange()
    {
        var config = LoadBalancer(Node(1), Node(2)).WithSourceIp(timeoutSeconds: 60);
        var runtime = Create(config);
        var table = runtime.StickTable;

        runtime.Apply(config.WithSourceIp(timeoutSeconds: 120));

        Assert.Same(table, runtime.StickTable);
        Assert.Equal(120L * _clock.TimestampFrequency, table.Ttl);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Explain_SourceIpManyClients_AgreesWithSelect(bool disableFallback)
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp(disableFallback);
        var runtime = Create(config);
        AssertAgreement(runtime, 300, i => PersistenceRequest.ForClient(ClientKey(i)));
        AssertAgreement(runtime, 300, i => PersistenceRequest.ForClient(ClientKey(i)));

        runtime.Apply(config with { Nodes = [Node(1), Node(2, condition: NodeCondition.Disabled), Node(3)] });

        AssertAgreement(runtime, 300, i => PersistenceRequest.ForClient(ClientKey(i)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Explain_AppCookieManyClients_AgreesWithSelect(bool disableFallback)
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithAppCookie(disableFallback: disableFallback);
        var runtime = Create(config);
        for (var i = 0; i < 300; i += 2)
        {
            runtime.LearnAppCookie(AppKey(i), 1 + (i % 3));
        }

        AssertAgreement(runtime, 300, i => new PersistenceRequest(UInt128.Zero, default, AppKey(i), default));
        runtime.Apply(config with { Nodes = [Node(1), Node(2, condition: NodeCondition.Disabled), Node(3)] });

        AssertAgreement(runtime, 300, i => new PersistenceRequest(UInt128.Zero, default, AppKey(i), default));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Explain_HttpCookieManyClients_AgreesWithSelect(bool disableFallback)
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithCookie(disableFallback);
        var runtime = Create(config);
        var cookies = new string[300];
        for (var i = 0; i < cookies.Length; i++)
        {
            // Every third client has no cookie yet, the others one for node 1..3.
            cookies[i] = i % 3 == 0 ? "" : CookieValue(runtime.BuildSetCookie(runtime.Snapshot, runtime.Snapshot.FindNode(1 + (i % 3))!, 1000 + i));
        }

        AssertAgreement(runtime, 300, i => new PersistenceRequest(UInt128.Zero, cookies[i], UInt128.Zero, default));
        runtime.Apply(config with { Nodes = [Node(1), Node(2, condition: NodeCondition.Disabled), Node(3)] });

        AssertAgreement(runtime, 300, i => new PersistenceRequest(UInt128.Zero, cookies[i], UInt128.Zero, default));
    }

    [Fact]
    public void Explain_ManyLookups_RecordsNothing()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp());
        runtime.Select(PersistenceRequest.ForClient(ClientKey(0)));
        var decisions = Enum.GetValues<SelectionOutcome>().Sum(o => runtime.Statistics.Get(o));

        for (var i = 0; i < 100; i++)
        {
            runtime.Explain(PersistenceRequest.ForClient(ClientKey(i)));
        }

        Assert.Equal(1, runtime.StickTable.Count);
        Assert.Equal(decisions, Enum.GetValues<SelectionOutcome>().Sum(o => runtime.Statistics.Get(o)));
    }

    [Fact]
    public void FailurePolicy_WithoutFallback_RejectsEvenANodeNoLongerHeld()
    {
        Assert.True(PersistenceFailurePolicies.FailWithoutFallback.Rejects(null, out var rejection));
        Assert.Equal(new PersistenceDecision(null, SelectionOutcome.RejectedNoFallback), rejection);
        Assert.False(PersistenceFailurePolicies.FallbackAndRepin.Rejects(null, out _));
    }

    private static UInt128 AppKey(int i) => StableHash.OfCookie("SESSIONID", $"s-{i}");

    /// <summary>For each client: Explain first, then Select, which must agree: a named node is where the request
    /// goes ("persisted" as Persisted, "hashed" as Hashed or Repinned), "rejected" is RejectedNoFallback, "balanced"
    /// is Balanced or Repinned by the algorithm.</summary>
    private static void AssertAgreement(LoadBalancerRuntime runtime, int clients, Func<int, PersistenceRequest> view)
    {
        var disagreements = new List<string>();
        for (var i = 0; i < clients; i++)
        {
            var explained = runtime.Explain(view(i));
            var selected = runtime.Select(view(i));
            var agrees = explained.Reason switch
            {
                "persisted" => selected.Outcome == SelectionOutcome.Persisted && selected.Node == explained.Node,
                "hashed" => selected.Outcome is SelectionOutcome.Hashed or SelectionOutcome.Repinned && selected.Node == explained.Node,
                "rejected" => selected.Outcome == SelectionOutcome.RejectedNoFallback,
                "balanced" => selected.Outcome is SelectionOutcome.Balanced or SelectionOutcome.Repinned && explained.Node is null,
                _ => false,
            };
            if (!agrees)
            {
                disagreements.Add($"client {i}: {explained.Reason} {explained.Node?.Id}, selected {selected.Outcome} {selected.Node?.Id}");
            }
        }

        Assert.Empty(disagreements);
    }

    private LoadBalancerRuntime Create(LoadBalancerConfig config) =>
        new(config, Ring(1), _clock, new SeededRandomSource(20250101));
}

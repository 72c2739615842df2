using Microsoft.Extensions.Time.Testing;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.SessionPersistence;

/// <summary>HEADER persistence (issue 13): the header's value is consistently hashed (weighted Maglev) with a stick
/// table behind it, like SOURCE_IP; a request without the header is balanced by the algorithm and pins nothing.</summary>
public sealed class HeaderPolicyTests
{
    private readonly FakeTimeProvider _clock = Clock();

    [Fact]
    public void Select_SameValue_IsHashedThenPersistedToOneNode()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)));

        var first = runtime.Select(View("alice"));
        var again = Enumerable.Range(0, 5).Select(_ => runtime.Select(View("alice"))).ToList();

        Assert.Equal(SelectionOutcome.Hashed, first.Outcome);
        Assert.All(again, s => Assert.Equal(new Selection(first.Node, SelectionOutcome.Persisted, false), s));
        Assert.Equal(1, runtime.StickTable.Count);
    }

    [Fact]
    public void Select_Value_FollowsTheMaglevTable()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)));

        for (var i = 0; i < 200; i++)
        {
            var key = HeaderPolicy.KeyOf($"user-{i}");
            Assert.Same(runtime.Snapshot.Maglev!.Lookup(StableHash.Of(key)), runtime.Select(View($"user-{i}")).Node);
        }
    }

    [Fact]
    public void Select_ManyValues_SpreadByWeight()
    {
        var runtime = Create(LoadBalancer(Node(1, weight: 1), Node(2, weight: 3)));

        var counts = Enumerable.Range(0, 4000).Select(i => runtime.Select(View($"session-{i}")).Node!.Id).CountBy(id => id).ToDictionary();

        Assert.InRange(counts[2] / (double)(counts[1] + counts[2]), 0.70, 0.80);
    }

    [Fact]
    public void Select_WithoutHeader_IsBalancedByTheAlgorithmAndPinsNothing()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)).WithAlgorithm(AlgorithmNames.RoundRobin));

        var ids = Enumerable.Range(0, 6).Select(_ => runtime.Select(View("")).Node!.Id).ToArray();

        Assert.Equal([1, 2, 3, 1, 2, 3], ids);
        Assert.Equal(0, runtime.StickTable.Count);
        Assert.Equal(6, runtime.Statistics.Get(SelectionOutcome.Balanced));
    }

    [Fact]
    public void Select_PinnedNodeDisabled_FallsBackAndRepins_OrIsRejectedWithoutFallback()
    {
        foreach (var disableFallback in new[] { false, true })
        {
            var config = LoadBalancer(Node(1), Node(2), Node(3)).WithHeader(disableFallback);
            var runtime = new LoadBalancerRuntime(config, Ring(1), _clock, new SeededRandomSource(7));
            var pinned = runtime.Select(View("bob")).Node!.Id;
            runtime.Apply(config with { Nodes = [.. config.Nodes.Select(n => n.Id == pinned ? n with { Condition = NodeCondition.Disabled } : n)] });

            var next = runtime.Select(View("bob"));

            if (disableFallback)
            {
                Assert.Equal(new Selection(null, SelectionOutcome.RejectedNoFallback, false), next);
            }
            else
            {
                Assert.Equal(SelectionOutcome.Repinned, next.Outcome);
                Assert.NotEqual(pinned, next.Node!.Id);
                Assert.Equal(new Selection(next.Node, SelectionOutcome.Persisted, false), runtime.Select(View("bob")));
            }
        }
    }

    [Fact]
    public void Explain_ManyValues_AgreesWithSelect()
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)).WithHeader();
        var runtime = new LoadBalancerRuntime(config, Ring(1), _clock, new SeededRandomSource(7));
        for (var round = 0; round < 3; round++)
        {
            if (round == 2)
            {
                runtime.Apply(config with { Nodes = [Node(1), Node(2, condition: NodeCondition.Disabled), Node(3)] });
            }

            for (var i = 0; i < 300; i++)
            {
                var value = i % 10 == 0 ? "" : $"v-{i}";
                var explained = runtime.Explain(View(value));
                var selected = runtime.Select(View(value));
                Assert.True(explained.Reason switch
                {
                    "persisted" => selected.Outcome == SelectionOutcome.Persisted && selected.Node == explained.Node,
                    "hashed" => selected.Outcome is SelectionOutcome.Hashed or SelectionOutcome.Repinned && selected.Node == explained.Node,
                    "balanced" => selected.Outcome == SelectionOutcome.Balanced && explained.Node is null,
                    _ => false,
                }, $"round {round} value '{value}': {explained.Reason} {explained.Node?.Id}, selected {selected.Outcome} {selected.Node?.Id}");
            }
        }
    }

    [Fact]
    public void Snapshot_Header_CarriesTheHeaderNameAndAMaglevTable()
    {
        var snapshot = Create(LoadBalancer(Node(1), Node(2))).Snapshot;

        Assert.IsType<HeaderPolicy>(snapshot.Persistence);
        Assert.Equal("X-Session-Id", snapshot.PersistenceHeaderName);
        Assert.NotNull(snapshot.Maglev);
        Assert.Equal("HEADER", PersistenceTypeNames.ToName(PersistenceType.Header));
    }

    private static PersistenceRequest View(string header) => new(UInt128.Zero, default, UInt128.Zero, header);

    private LoadBalancerRuntime Create(LoadBalancerConfig config) =>
        new(config.WithHeader(), Ring(1), _clock, new SeededRandomSource(7));
}

internal static class HeaderConfigs
{
    public static LoadBalancerConfig WithHeader(this LoadBalancerConfig config, bool disableFallback = false) =>
        config with
        {
            SessionPersistence = new SessionPersistenceConfig { Type = PersistenceType.Header, HeaderName = "X-Session-Id", DisableFallback = disableFallback ? true : null },
        };
}

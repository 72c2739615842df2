using Microsoft.Extensions.Time.Testing;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.Runtime;

/// <summary>The persistence API's session move (<see cref="LoadBalancerRuntime.MoveSessions"/>, issue 13 item 5):
/// stick-table types re-point their entries; HTTP_COOKIE follows the cookies of moved sessions and re-issues them.</summary>
public sealed class LoadBalancerRuntimeMoveTests
{
    private readonly FakeTimeProvider _clock = Clock();

    // ---------------------------------------------------------------- stick-table types

    [Fact]
    public void MoveSessions_SourceIpAll_EveryClientOfTheOldNodeReachesTheNewNode()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp());
        var before = Enumerable.Range(0, 90).ToDictionary(i => i, i => runtime.Select([], ClientKey(i)).Node!.Id);
        var onOne = before.Count(p => p.Value == 1);

        var result = runtime.MoveSessions(1, 3, 1.0);
        var after = Enumerable.Range(0, 90).ToDictionary(i => i, i => runtime.Select([], ClientKey(i)));

        Assert.True(onOne > 10, $"{onOne} clients hashed to node 1");
        Assert.Equal(new SessionMoveResult(onOne, 0), result);
        Assert.All(before, p => Assert.Equal(p.Value == 1 ? 3 : p.Value, after[p.Key].Node!.Id));
        Assert.All(after.Values, s => Assert.Equal(SelectionOutcome.Persisted, s.Outcome));
        Assert.False(runtime.CountSessionsByNode().ContainsKey(1));
    }

    [Fact]
    public void MoveSessions_AppCookieFraction_MovesTheRoundedShareRankedByKeyHash()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithAppCookie());
        var keys = Enumerable.Range(0, 40).Select(i => StableHash.OfCookie("SESSIONID", $"s{i}")).ToList();
        keys.ForEach(k => runtime.LearnAppCookie(k, 1));

        var result = runtime.MoveSessions(1, 2, 0.25);

        var expected = keys.OrderBy(k => StableHash.Of(k)).ThenBy(k => k).Take(10).ToHashSet();
        Assert.Equal(new SessionMoveResult(10, 30), result);
        Assert.All(keys, k => Assert.Equal(expected.Contains(k) ? 2 : 1, runtime.Select([], k).Node!.Id));
    }

    [Fact]
    public void MoveSessions_SameSessionsTwoRuntimes_PickTheSameShare()
    {
        var a = Create(LoadBalancer(Node(1), Node(2)).WithSourceIp());
        var b = Create(LoadBalancer(Node(1), Node(2)).WithSourceIp());
        foreach (var runtime in new[] { a, b })
        {
            for (var i = 0; i < 101; i++)
            {
                runtime.StickTable.Set(ClientKey(i), 1, _clock.GetTimestamp());
            }
        }

        var moved = new[] { a, b }.Select(r =>
        {
            r.MoveSessions(1, 2, 0.5);
            return r.StickTable.Snapshot(_clock.GetTimestamp()).Where(e => e.NodeId == 2).Select(e => e.Key).ToHashSet();
        }).ToList();

        Assert.Equal(51, moved[0].Count); // 50.5 rounds half away from zero
        Assert.True(moved[0].SetEquals(moved[1]));
    }

    [Fact]
    public void MoveSessions_Entry_KeepsItsLastUse()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithSourceIp(timeoutSeconds: 600));
        runtime.StickTable.Set(ClientKey(1), 1, _clock.GetTimestamp());
        _clock.Advance(TimeSpan.FromSeconds(500));

        runtime.MoveSessions(1, 2, 1.0);
        _clock.Advance(TimeSpan.FromSeconds(101));

        // Idle 601 s > 600 s: the move did not refresh it.
        Assert.False(runtime.StickTable.TryPeek(ClientKey(1), _clock.GetTimestamp(), out _));
    }

    [Fact]
    public void MoveSessions_WithoutPersistence_MovesNothing()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)));

        Assert.Equal(new SessionMoveResult(0, 0), runtime.MoveSessions(1, 2, 1.0));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.5)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void MoveSessions_FractionOutOfRange_Throws(double fraction)
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithSourceIp());

        Assert.ThrowsAny<ArgumentException>(() => runtime.MoveSessions(1, 2, fraction));
    }

    [Fact]
    public void TryMove_EntryPinnedElsewhere_IsLeftAlone()
    {
        var table = new StickTable(10);
        table.Set(5, 3, 100);

        Assert.False(table.TryMove(5, 1, 2));
        Assert.False(table.TryMove(6, 1, 2));
        Assert.True(table.TryPeek(5, 100, out var node));
        Assert.Equal(3, node);
        Assert.True(table.TryMove(5, 3, 2));
        Assert.Equal(new StickEntry(5, 2, 100), Assert.Single(table.Snapshot(100)));
    }

    // ---------------------------------------------------------------- HTTP_COOKIE

    [Fact]
    public void MoveSessions_CookieKnownSession_HonouredOnNewNodeAndCookieReissuedNamingIt()
    {
        var runtime = Create(CookieConfig());
        var (value, session) = Returning(runtime, expectNode: 1);
        _clock.Advance(TimeSpan.FromSeconds(3));

        var result = runtime.MoveSessions(1, 2, 1.0);
        var moved = runtime.Select(value, default);
        var reissued = Issue(runtime, moved);
        var next = runtime.Select(reissued, default);

        Assert.Equal(new SessionMoveResult(1, 0), result);
        Assert.Equal(new Selection(runtime.Snapshot.FindNode(2), SelectionOutcome.Persisted, true, session), moved);
        Assert.True(PersistenceCookie.TryValidate(runtime.Keys, reissued, LoadBalancerId, _clock.GetUtcNow().ToUnixTimeSeconds(), 1200,
            out var named, out var carried, out _));
        Assert.Equal((2, session), (named, carried));
        Assert.Equal(new Selection(runtime.Snapshot.FindNode(2), SelectionOutcome.Persisted, false, session), next);
        Assert.Equal(new Dictionary<int, int> { [2] = 1 }, runtime.CountSessionsByNode());
    }

    [Fact]
    public void MoveSessions_CookieOldValueAgainAfterReissue_StillOnNewNode()
    {
        // Two requests in flight with the old cookie: both land on the new node.
        var runtime = Create(CookieConfig());
        var (value, _) = Returning(runtime, expectNode: 1);
        runtime.MoveSessions(1, 2, 1.0);

        runtime.Select(value, default);
        _clock.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(2, runtime.Select(value, default).Node!.Id);
    }

    [Fact]
    public void MoveSessions_CookieAllUnknownSession_Follows()
    {
        // The client got its cookie and has not come back yet: the session view does not know it, the move of all does.
        var runtime = Create(CookieConfig());
        var value = Issue(runtime, runtime.Select([], default));
        _clock.Advance(TimeSpan.FromSeconds(2));

        var result = runtime.MoveSessions(1, 2, 1.0);
        var selection = runtime.Select(value, default);

        Assert.Equal(new SessionMoveResult(0, 0), result);
        Assert.Equal((2, SelectionOutcome.Persisted, true), (selection.Node!.Id, selection.Outcome, selection.IssueCookie));
    }

    [Fact]
    public void MoveSessions_CookieFraction_MovesOnlyTheRankedShareOfKnownSessions()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithAlgorithm(AlgorithmNames.RoundRobin).WithCookie());
        var clients = new List<(string Value, long Session)>();
        for (var i = 0; i < 40; i++)
        {
            var selection = runtime.Select([], default);
            var value = Issue(runtime, selection);
            runtime.Select(value, default);
            clients.Add((value, selection.SessionId));
        }

        var unknown = Issue(runtime, runtime.Select([], default)); // node 1, never came back
        var onOne = clients.Where(c => runtime.Select(c.Value, default).Node!.Id == 1).ToList();
        _clock.Advance(TimeSpan.FromSeconds(1));

        var result = runtime.MoveSessions(1, 2, 0.5);

        var expected = onOne.OrderBy(c => StableHash.Of(SessionKey(c.Session))).ThenBy(c => SessionKey(c.Session)).Take(10).Select(c => c.Session).ToHashSet();
        Assert.Equal(20, onOne.Count);
        Assert.Equal(new SessionMoveResult(10, 10), result);
        Assert.All(onOne, c => Assert.Equal(expected.Contains(c.Session) ? 2 : 1, runtime.Select(c.Value, default).Node!.Id));
        Assert.Equal(1, runtime.Select(unknown, default).Node!.Id);
    }

    [Fact]
    public void MoveSessions_CookieIssuedAfterTheMove_IsNotFollowed()
    {
        var runtime = Create(CookieConfig());
        runtime.MoveSessions(1, 2, 1.0);
        _clock.Advance(TimeSpan.FromSeconds(1));

        var fresh = runtime.Select([], default); // node 1 is still ENABLED: new clients reach it
        var value = Issue(runtime, fresh);

        Assert.Equal(1, fresh.Node!.Id);
        Assert.Equal(new Selection(runtime.Snapshot.FindNode(1), SelectionOutcome.Persisted, false, fresh.SessionId), runtime.Select(value, default));
    }

    [Fact]
    public void MoveSessions_CookieThenOldNodeDeleted_ClientStaysOnNewNode()
    {
        // Retiring node 1: move all, then delete it. Its clients keep their session on node 2.
        var runtime = Create(CookieConfig());
        var known = Returning(runtime, expectNode: 1).Value;
        var unknown = Issue(runtime, runtime.Select([], default));
        Issue(runtime, runtime.Select([], default));
        var other = runtime.Select([], default);
        Assert.Equal(1, other.Node!.Id);
        _clock.Advance(TimeSpan.FromSeconds(1));

        runtime.MoveSessions(1, 2, 1.0);
        runtime.Apply(LoadBalancer(Node(2), Node(3)).WithAlgorithm(AlgorithmNames.RoundRobin).WithCookie());

        Assert.Equal((2, SelectionOutcome.Persisted), (runtime.Select(known, default).Node!.Id, runtime.Select(known, default).Outcome));
        Assert.Equal((2, SelectionOutcome.Persisted), (runtime.Select(unknown, default).Node!.Id, runtime.Select(unknown, default).Outcome));
    }

    [Fact]
    public void MoveSessions_CookieChainedMoves_FollowToTheLastNode()
    {
        var runtime = Create(CookieConfig());
        var value = Issue(runtime, runtime.Select([], default));
        _clock.Advance(TimeSpan.FromSeconds(1));

        runtime.MoveSessions(1, 2, 1.0);
        _clock.Advance(TimeSpan.FromSeconds(1));
        runtime.MoveSessions(2, 3, 1.0);

        Assert.Equal(3, runtime.Select(value, default).Node!.Id);
    }

    [Fact]
    public void MoveSessions_CookieMovedBackHome_StaysOnItsNode()
    {
        var runtime = Create(CookieConfig());
        var value = Issue(runtime, runtime.Select([], default));
        _clock.Advance(TimeSpan.FromSeconds(1));

        runtime.MoveSessions(1, 2, 1.0);
        _clock.Advance(TimeSpan.FromSeconds(1));
        runtime.MoveSessions(2, 1, 1.0);

        Assert.Equal(1, runtime.Select(value, default).Node!.Id);
    }

    [Fact]
    public void MoveSessions_CookieThenNewNodeUnpinned_ClientBalancedAfresh()
    {
        var runtime = Create(CookieConfig());
        var (value, session) = Returning(runtime, expectNode: 1);
        _clock.Advance(TimeSpan.FromSeconds(1));
        runtime.MoveSessions(1, 2, 1.0);
        _clock.Advance(TimeSpan.FromSeconds(1));

        runtime.UnpinNode(2);
        var selection = runtime.Select(value, default);

        Assert.Equal(SelectionOutcome.Balanced, selection.Outcome);
        Assert.NotEqual(session, selection.SessionId);
    }

    [Fact]
    public void MoveSessions_CookieAfterNewNodeWasUnpinned_StillFollows()
    {
        // Node 2's clients were unpinned before the move: the moved sessions are node 2's clients since the move.
        // The documented edge: unpinned less than a refresh interval (120 s here) before the move, the cookie is
        // honoured on node 2 at once and re-issued naming it once that interval since the unpin is over.
        var runtime = Create(CookieConfig());
        var (value, session) = Returning(runtime, expectNode: 1);
        _clock.Advance(TimeSpan.FromSeconds(1));
        runtime.UnpinNode(2);
        _clock.Advance(TimeSpan.FromSeconds(1));
        runtime.MoveSessions(1, 2, 1.0);

        var soon = runtime.Select(value, default);
        _clock.Advance(TimeSpan.FromSeconds(120));
        var later = runtime.Select(value, default);

        Assert.Equal(new Selection(runtime.Snapshot.FindNode(2), SelectionOutcome.Persisted, false, session), soon);
        Assert.Equal(new Selection(runtime.Snapshot.FindNode(2), SelectionOutcome.Persisted, true, session), later);
    }

    [Fact]
    public void Explain_CookieOfMovedSession_NamesTheNewNodeAsSelectDoes()
    {
        var runtime = Create(CookieConfig());
        var values = Enumerable.Range(0, 12).Select(_ => Issue(runtime, runtime.Select([], default))).ToList();
        values.Take(6).ToList().ForEach(v => runtime.Select(v, default)); // half known to the session view
        _clock.Advance(TimeSpan.FromSeconds(1));
        runtime.MoveSessions(1, 3, 1.0);

        foreach (var value in values)
        {
            var explained = runtime.Explain(value, default);
            var selected = runtime.Select(value, default);
            Assert.Equal((selected.Node!.Id, "persisted"), (explained.Node!.Id, explained.Reason));
            Assert.NotEqual(1, selected.Node.Id);
        }
    }

    [Fact]
    public void MoveSessions_CookieRecordsOlderThanTheTimeout_ArePruned()
    {
        var runtime = Create(CookieConfig());
        runtime.MoveSessions(1, 2, 1.0);
        _clock.Advance(TimeSpan.FromSeconds(1201));

        runtime.PurgeExpired();

        Assert.True(runtime.Moves.IsEmpty);
    }

    [Fact]
    public void Apply_PersistenceTypeChanged_ForgetsCookieMoves()
    {
        var runtime = Create(CookieConfig());
        var value = Issue(runtime, runtime.Select([], default));
        _clock.Advance(TimeSpan.FromSeconds(1));
        runtime.MoveSessions(1, 2, 1.0);

        runtime.Apply(LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp());
        runtime.Apply(CookieConfig());

        Assert.True(runtime.Moves.IsEmpty);
        Assert.Equal(1, runtime.Select(value, default).Node!.Id);
    }

    // ---------------------------------------------------------------- helpers

    private static LoadBalancerConfig CookieConfig() =>
        LoadBalancer(Node(1), Node(2), Node(3)).WithAlgorithm(AlgorithmNames.RoundRobin).WithCookie();

    /// <summary>A client balanced, given its cookie, and back once (so the session view knows it).</summary>
    private (string Value, long Session) Returning(LoadBalancerRuntime runtime, int expectNode)
    {
        var selection = runtime.Select([], default);
        Assert.Equal(expectNode, selection.Node!.Id);
        var value = Issue(runtime, selection);
        runtime.Select(value, default);
        return (value, selection.SessionId);
    }

    private LoadBalancerRuntime Create(LoadBalancerConfig config) =>
        new(config, Ring(1), _clock, new SeededRandomSource(20250101));

    private static string Issue(LoadBalancerRuntime runtime, Selection selection) =>
        CookieValue(runtime.BuildSetCookie(runtime.Snapshot, selection.Node!, selection.SessionId));
}

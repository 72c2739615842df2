using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;

namespace Tether.Core.SessionPersistence;

/// <summary>
/// HTTP_COOKIE (seed 002): Tether inserts a signed cookie naming the node (<see cref="PersistenceCookie"/>). A valid,
/// unexpired cookie pins the request to its node; a new client is balanced by the algorithm and gets a cookie with a
/// new session id; the stick table is only the session view (for the API's counts and unpinning), never the pin.
/// </summary>
public sealed class HttpCookiePolicy : IPersistencePolicy
{
    /// <inheritdoc />
    public PersistenceType? Type => PersistenceType.HttpCookie;

    /// <inheritdoc />
    public string Name => PersistenceTypeNames.HttpCookie;

    /// <inheritdoc />
    public PersistenceInputs Inputs => PersistenceInputs.PersistenceCookie;

    /// <inheritdoc />
    public bool HttpOnly => true;

    /// <inheritdoc />
    public bool HashesNewClients => false;

    /// <inheritdoc />
    public bool LearnsFromAnswer => false;

    /// <inheritdoc />
    public string? DefaultCookieName(int loadBalancerId) => LoadBalancerSnapshot.DefaultCookieName(loadBalancerId);

    /// <inheritdoc />
    public PersistenceDecision Find(in PersistenceScope scope, in PersistenceRequest request)
    {
        var snapshot = scope.Snapshot;
        var nowUnix = scope.Runtime.UnixClock.SecondsAt(scope.Now);
        var cookie = request.PersistenceCookie;
        var outcome = SelectionOutcome.Balanced;
        long repinnedSession = 0;
        if (!cookie.IsEmpty && Validate(scope, cookie, nowUnix, out var nodeId, out var sessionId, out var lastUse))
        {
            // A moved session (the persistence API's move) is followed to its new node, read-only.
            scope.Runtime.Moves.Follow(snapshot, scope.Table, sessionId, scope.Now, nowUnix, ref nodeId, ref lastUse);
            var pinned = snapshot.FindNode(nodeId);
            // Unpinned by the operator: the cookie is ignored and the client balanced afresh.
            if (pinned is null || !IsUnpinned(scope, pinned, lastUse, sessionId))
            {
                if (scope.Serving(pinned) is { } node)
                {
                    // The session view (for the API's counts and listing) learns or refreshes the session.
                    var session = (UInt128)(ulong)sessionId;
                    if (!scope.Touch(session, out var known) || known != nodeId)
                    {
                        scope.Pin(session, nodeId);
                    }

                    return new PersistenceDecision(node, SelectionOutcome.Persisted, nowUnix - lastUse >= snapshot.CookieRefreshSeconds, sessionId);
                }

                if (scope.Rejects(pinned, out var rejection))
                {
                    return rejection;
                }

                outcome = SelectionOutcome.Repinned;
                repinnedSession = sessionId;
            }
        }

        var picked = scope.Pick();
        if (picked is null)
        {
            return scope.Unplaced();
        }

        // A repinned client keeps its session id, so the session view moves with it instead of counting it twice.
        // A new session enters the view only when the client comes back with its cookie: a client that never returns
        // cookies (a load generator, a crawler) costs no state.
        if (outcome == SelectionOutcome.Repinned && repinnedSession != 0)
        {
            scope.Pin((UInt128)(ulong)repinnedSession, picked.Id);
            return new PersistenceDecision(picked, SelectionOutcome.Repinned, true, repinnedSession);
        }

        var newSession = scope.Runtime.NewSessionId();
        if (nowUnix == picked.Counters.UnpinnedBefore)
        {
            // Issued in the very second the node was unpinned: recorded now, so that IsUnpinned can tell this cookie
            // from the ones the unpin meant (cookies carry whole seconds).
            scope.Pin((UInt128)(ulong)newSession, picked.Id);
        }

        return new PersistenceDecision(picked, outcome, true, newSession);
    }

    /// <summary>The Set-Cookie header value that pins the client to <paramref name="node"/> (the pin recorded in the
    /// answer).</summary>
    public static string SetCookie(CookieKeyRing keys, LoadBalancerSnapshot snapshot, NodeState node, long sessionId, long nowUnix)
    {
        var value = PersistenceCookie.Encode(keys, snapshot.Id, node.Id, sessionId, nowUnix);
        return string.Concat(snapshot.CookieName, "=", value, snapshot.CookieAttributes);
    }

    /// <inheritdoc />
    public UInt128 StickKey(in PersistenceRequest request) => UInt128.Zero;

    /// <inheritdoc />
    public string DescribeKey(UInt128 key, bool mask) =>
        "session:" + ((ulong)key).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Whether the operator unpinned this cookie's client. Cookies last used before the unpin time are; one dated the
    /// very second of the unpin is only if its session is not (again) pinned to the node: the unpin dropped every
    /// session of the node, so a session the table holds for it was pinned after the unpin.
    /// </summary>
    private static bool IsUnpinned(in PersistenceScope scope, NodeState node, long lastUse, long sessionId)
    {
        var before = node.Counters.UnpinnedBefore;
        return lastUse < before
            || (lastUse == before && !(scope.Peek((UInt128)(ulong)sessionId, out var owner) && owner == node.Id));
    }

    /// <summary>The validated-value cache first (a returning client), the HMAC otherwise (remembered unless
    /// read-only). The idle timeout is checked either way.</summary>
    private static bool Validate(in PersistenceScope scope, ReadOnlySpan<char> cookie, long nowUnix, out int nodeId, out long sessionId, out long lastUse)
    {
        var runtime = scope.Runtime;
        var snapshot = scope.Snapshot;
        var keys = runtime.Keys;
        if (runtime.CookieCache.TryGet(cookie, keys, out nodeId, out sessionId, out lastUse))
        {
            return nowUnix - lastUse <= snapshot.TimeoutSeconds && lastUse - nowUnix <= 60;
        }

        if (!PersistenceCookie.TryValidate(keys, cookie, snapshot.Id, nowUnix, snapshot.TimeoutSeconds, out nodeId, out sessionId, out lastUse))
        {
            return false;
        }

        if (!scope.ReadOnly)
        {
            runtime.CookieCache.Add(cookie, keys, nodeId, sessionId, lastUse);
        }

        return true;
    }
}

using Tether.Core.Model;
using Tether.Core.Runtime;

namespace Tether.Core.SessionPersistence;

/// <summary>
/// APP_COOKIE (seed 002, Octavia APP_COOKIE): follows the application's own cookie. The pin is learned from the node's
/// answer (its Set-Cookie, <see cref="LoadBalancerRuntime.LearnAppCookie"/>) and kept in the stick table; a request
/// carrying a pinned cookie goes to that node; any other request is balanced by the algorithm and pinned only when the
/// node sets the cookie.
/// </summary>
public sealed class AppCookiePolicy : IPersistencePolicy
{
    /// <inheritdoc />
    public PersistenceType? Type => PersistenceType.AppCookie;

    /// <inheritdoc />
    public string Name => PersistenceTypeNames.AppCookie;

    /// <inheritdoc />
    public PersistenceInputs Inputs => PersistenceInputs.AppCookie;

    /// <inheritdoc />
    public bool HttpOnly => true;

    /// <inheritdoc />
    public bool HashesNewClients => false;

    /// <inheritdoc />
    public bool LearnsFromAnswer => true;

    /// <inheritdoc />
    public string? DefaultCookieName(int loadBalancerId) => "*";

    /// <inheritdoc />
    public PersistenceDecision Find(in PersistenceScope scope, in PersistenceRequest request)
    {
        var key = request.AppCookieKey;
        var repinned = false;
        if (key != UInt128.Zero && scope.Peek(key, out var nodeId))
        {
            var pinned = scope.Snapshot.FindNode(nodeId);
            if (scope.Serving(pinned) is { } node)
            {
                // Refreshed only when served: a client rejected with 502 (no fallback) lets its pin expire.
                scope.Touch(key, out _);
                return new PersistenceDecision(node, SelectionOutcome.Persisted);
            }

            if (scope.Rejects(pinned, out var rejection))
            {
                return rejection;
            }

            repinned = true;
        }

        var picked = scope.Pick();
        if (picked is null)
        {
            return scope.Unplaced();
        }

        if (repinned)
        {
            // The session follows the client to its new node until that node answers with a cookie of its own.
            scope.Pin(key, picked.Id);
            return new PersistenceDecision(picked, SelectionOutcome.Repinned);
        }

        return new PersistenceDecision(picked, SelectionOutcome.Balanced);
    }

    /// <inheritdoc />
    public UInt128 StickKey(in PersistenceRequest request) => request.AppCookieKey;

    /// <inheritdoc />
    public string DescribeKey(UInt128 key, bool mask) => "cookie:" + StickEntryIds.Of(key);
}

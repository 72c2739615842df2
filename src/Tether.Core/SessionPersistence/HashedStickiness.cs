using Tether.Core.Runtime;

namespace Tether.Core.SessionPersistence;

/// <summary>
/// The decision of the hashing policies (SOURCE_IP, HEADER): a live stick-table pin first; otherwise the key's hash in
/// the weighted Maglev table, pinned; the algorithm's pick when the hashed node cannot take the client.
/// </summary>
public static class HashedStickiness
{
    /// <summary>Finds the node of stick-table key <paramref name="key"/>; its consistent hash
    /// (<see cref="StableHash.Of(UInt128)"/>) is computed only for a client that is not pinned.</summary>
    public static PersistenceDecision Find(in PersistenceScope scope, UInt128 key)
    {
        var repinned = false;
        if (scope.Peek(key, out var nodeId))
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

        // A new (or re-pinned) client only: bounded loads never move a pinned one.
        var hashed = scope.Snapshot.Maglev?.Lookup(StableHash.Of(key), scope.Snapshot.HashBalanceFactor);
        if (hashed is not null && hashed.IsAvailable(scope.Now))
        {
            scope.Pin(key, hashed.Id);
            return new PersistenceDecision(hashed, repinned ? SelectionOutcome.Repinned : SelectionOutcome.Hashed);
        }

        var picked = scope.Pick();
        if (picked is null)
        {
            return scope.Unplaced();
        }

        scope.Pin(key, picked.Id);
        return new PersistenceDecision(picked, repinned ? SelectionOutcome.Repinned : SelectionOutcome.Balanced);
    }
}

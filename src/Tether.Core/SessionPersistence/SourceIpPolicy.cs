using System.Globalization;
using System.Net;
using Tether.Core.Model;
using Tether.Core.Runtime;

namespace Tether.Core.SessionPersistence;

/// <summary>
/// SOURCE_IP (seed 002; every protocol): the client address is consistently hashed (weighted Maglev over the nodes
/// that take new clients) and the answer kept in the stick table, so that a client stays on its node when nodes are
/// added, and falls back per the failure policy when its node goes away.
/// </summary>
public sealed class SourceIpPolicy : IPersistencePolicy
{
    /// <inheritdoc />
    public PersistenceType? Type => PersistenceType.SourceIp;

    /// <inheritdoc />
    public string Name => PersistenceTypeNames.SourceIp;

    /// <inheritdoc />
    public PersistenceInputs Inputs => PersistenceInputs.ClientAddress;

    /// <inheritdoc />
    public bool HttpOnly => false;

    /// <inheritdoc />
    public bool HashesNewClients => true;

    /// <inheritdoc />
    public bool LearnsFromAnswer => false;

    /// <inheritdoc />
    public string? DefaultCookieName(int loadBalancerId) => null;

    /// <inheritdoc />
    public PersistenceDecision Find(in PersistenceScope scope, in PersistenceRequest request) =>
        HashedStickiness.Find(scope, request.ClientKey, StableHash.Of(request.ClientKey));

    /// <inheritdoc />
    public string DescribeKey(UInt128 key, bool mask)
    {
        var address = ClientAddress.FromKey(key);
        if (!mask)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        if (bytes.Length == 4)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{bytes[0]}.{bytes[1]}.{bytes[2]}.x");
        }

        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}

/// <summary>
/// The decision of the hashing policies (SOURCE_IP, HEADER): a live stick-table pin first; otherwise the key's hash in
/// the weighted Maglev table, pinned; the algorithm's pick when the hashed node cannot take the client.
/// </summary>
public static class HashedStickiness
{
    /// <summary>Finds the node of stick-table key <paramref name="key"/> whose consistent hash is
    /// <paramref name="hash"/>.</summary>
    public static PersistenceDecision Find(in PersistenceScope scope, UInt128 key, ulong hash)
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
        var hashed = scope.Snapshot.Maglev?.Lookup(hash, scope.Snapshot.HashBalanceFactor);
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

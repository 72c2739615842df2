using Tether.Core.Model;
using Tether.Core.Runtime;

namespace Tether.Core.SessionPersistence;

/// <summary>No session persistence: the algorithm picks every request.</summary>
public sealed class BalancedPolicy : IPersistencePolicy
{
    /// <inheritdoc />
    public PersistenceType? Type => null;

    /// <inheritdoc />
    public string Name => "NONE";

    /// <inheritdoc />
    public PersistenceInputs Inputs => PersistenceInputs.None;

    /// <inheritdoc />
    public bool HttpOnly => false;

    /// <inheritdoc />
    public bool HashesNewClients => false;

    /// <inheritdoc />
    public bool LearnsFromAnswer => false;

    /// <inheritdoc />
    public string? DefaultCookieName(int loadBalancerId) => null;

    /// <inheritdoc />
    public PersistenceDecision Find(in PersistenceScope scope, in PersistenceRequest request) =>
        scope.Pick() is { } node ? new PersistenceDecision(node, SelectionOutcome.Balanced) : scope.Unplaced();

    /// <inheritdoc />
    public UInt128 StickKey(in PersistenceRequest request) => UInt128.Zero;

    /// <inheritdoc />
    public string DescribeKey(UInt128 key, bool mask) => StickEntryIds.Of(key);
}

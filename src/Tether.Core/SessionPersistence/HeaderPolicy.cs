using System.IO.Hashing;
using System.Runtime.InteropServices;
using Tether.Core.Model;
using Tether.Core.Runtime;

namespace Tether.Core.SessionPersistence;

/// <summary>
/// HEADER (issue 13; seed 004: "cookies, IP addresses, or HTTP headers"): the value of one request header
/// (<c>headerName</c>, e.g. <c>X-Session-Id</c>) is consistently hashed (weighted Maglev over the nodes that take new
/// clients) with a stick table behind it, exactly as SOURCE_IP hashes the client address, so that every request
/// carrying the same value reaches the same node. A request without the header is balanced by the algorithm and pins
/// nothing. HTTP load balancers only.
/// </summary>
/// <remarks>The stick table keeps a 128-bit hash of the value (<see cref="StableHash.OfCookie"/> of <c>HEADER</c> and
/// the value), never the value itself: it may be a session secret. The value is taken byte for byte (case matters),
/// from the first field line of that name.</remarks>
public sealed class HeaderPolicy : IPersistencePolicy
{
    /// <inheritdoc />
    public PersistenceType? Type => PersistenceType.Header;

    /// <inheritdoc />
    public string Name => PersistenceTypeNames.Header;

    /// <inheritdoc />
    public PersistenceInputs Inputs => PersistenceInputs.Header;

    /// <inheritdoc />
    public bool HttpOnly => true;

    /// <inheritdoc />
    public bool HashesNewClients => true;

    /// <inheritdoc />
    public bool LearnsFromAnswer => false;

    /// <inheritdoc />
    public string? DefaultCookieName(int loadBalancerId) => null;

    /// <inheritdoc />
    public PersistenceDecision Find(in PersistenceScope scope, in PersistenceRequest request)
    {
        if (request.Header.IsEmpty)
        {
            return scope.Pick() is { } node ? new PersistenceDecision(node, SelectionOutcome.Balanced) : scope.Unplaced();
        }

        var key = KeyOf(request.Header);
        return HashedStickiness.Find(scope, key);
    }

    /// <summary>The stick-table key of a header value: XXH128 (System.IO.Hashing) of its UTF-16 code units
    /// (case-sensitive, as sent), never zero. Vectorised, so a value's length costs little (the character-by-character
    /// fold of <see cref="StableHash.OfCookie"/> took about half of a HEADER decision).</summary>
    public static UInt128 KeyOf(ReadOnlySpan<char> value)
    {
        var key = XxHash128.HashToUInt128(MemoryMarshal.AsBytes(value), HeaderSeed);
        return key == UInt128.Zero ? UInt128.One : key;
    }

    /// <summary>Keeps header keys apart from every other key type's.</summary>
    private const long HeaderSeed = 0x4845414445520001;

    /// <inheritdoc />
    public UInt128 StickKey(in PersistenceRequest request) =>
        request.Header.IsEmpty ? UInt128.Zero : KeyOf(request.Header);

    /// <inheritdoc />
    public string DescribeKey(UInt128 key, bool mask) => "header:" + StickEntryIds.Of(key);
}

using System.Globalization;
using System.Net;
using Tether.Core.Model;

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
        HashedStickiness.Find(scope, request.ClientKey);

    /// <inheritdoc />
    public UInt128 StickKey(in PersistenceRequest request) => request.ClientKey;

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

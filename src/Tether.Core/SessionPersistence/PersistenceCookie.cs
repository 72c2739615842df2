using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;

namespace Tether.Core.SessionPersistence;

/// <summary>
/// The value of Tether's HTTP_COOKIE persistence cookie: opaque, signed, stateless, so that every Tether instance that
/// holds the key ring accepts it without talking to the others (docs/architecture.md and docs/session-persistence.md).
/// </summary>
/// <remarks>
/// Layout before base64url (42 bytes, 56 characters): version (1 byte, = 2) | key id (1) | load balancer id (4) |
/// node id (4) | session id (8, random, kept when the cookie is refreshed) | last use, Unix seconds (8) |
/// HMAC-SHA256 of the previous 26 bytes, truncated to 16 bytes.
/// It names the node by its id only, never by its address. A value that does not parse, is signed with an unknown
/// key, has a wrong MAC (constant-time compare), belongs to another load balancer, or was last used longer ago than
/// the stickiness duration is invalid and treated as absent (seed 002).
/// </remarks>
public static class PersistenceCookie
{
    /// <summary>Length of an encoded value, in characters.</summary>
    public const int EncodedLength = 56;

    private const byte Version = 2;
    private const int PayloadLength = 26;
    private const int MacLength = 16;
    private const int TotalLength = PayloadLength + MacLength;

    /// <summary>Encodes a cookie value into <paramref name="destination"/> (at least <see cref="EncodedLength"/>
    /// characters). Allocates nothing.</summary>
    /// <param name="keys">The key ring; its current key signs.</param>
    /// <param name="loadBalancerId">The load balancer the cookie is for.</param>
    /// <param name="nodeId">The node the client is pinned to.</param>
    /// <param name="unixSeconds">The time of this use, in Unix seconds.</param>
    /// <param name="destination">Where the characters go.</param>
    /// <returns>The number of characters written (<see cref="EncodedLength"/>).</returns>
    public static int Encode(CookieKeyRing keys, int loadBalancerId, int nodeId, long unixSeconds, Span<char> destination) =>
        Encode(keys, loadBalancerId, nodeId, 0, unixSeconds, destination);

    /// <summary>Encodes a cookie value carrying a session id into <paramref name="destination"/> (at least
    /// <see cref="EncodedLength"/> characters). Allocates nothing.</summary>
    /// <param name="keys">The key ring; its current key signs.</param>
    /// <param name="loadBalancerId">The load balancer the cookie is for.</param>
    /// <param name="nodeId">The node the client is pinned to.</param>
    /// <param name="sessionId">The client's persistence session (random, stable across refreshes).</param>
    /// <param name="unixSeconds">The time of this use, in Unix seconds.</param>
    /// <param name="destination">Where the characters go.</param>
    /// <returns>The number of characters written (<see cref="EncodedLength"/>).</returns>
    public static int Encode(CookieKeyRing keys, int loadBalancerId, int nodeId, long sessionId, long unixSeconds, Span<char> destination)
    {
        Span<byte> buffer = stackalloc byte[TotalLength];
        var key = keys.Current;
        buffer[0] = Version;
        buffer[1] = key.Id;
        BinaryPrimitives.WriteInt32LittleEndian(buffer.Slice(2, 4), loadBalancerId);
        BinaryPrimitives.WriteInt32LittleEndian(buffer.Slice(6, 4), nodeId);
        BinaryPrimitives.WriteInt64LittleEndian(buffer.Slice(10, 8), sessionId);
        BinaryPrimitives.WriteInt64LittleEndian(buffer.Slice(18, 8), unixSeconds);
        Span<byte> mac = stackalloc byte[32];
        Mac(key.Id, key.Secret, buffer[..PayloadLength], mac);
        mac[..MacLength].CopyTo(buffer[PayloadLength..]);
        return Base64Url.EncodeToChars(buffer, destination);
    }

    /// <summary>Encodes a cookie value as a new string (for the response header).</summary>
    public static string Encode(CookieKeyRing keys, int loadBalancerId, int nodeId, long unixSeconds) =>
        Encode(keys, loadBalancerId, nodeId, 0, unixSeconds);

    /// <summary>Encodes a cookie value carrying a session id as a new string (for the response header).</summary>
    public static string Encode(CookieKeyRing keys, int loadBalancerId, int nodeId, long sessionId, long unixSeconds)
    {
        Span<char> chars = stackalloc char[EncodedLength];
        var written = Encode(keys, loadBalancerId, nodeId, sessionId, unixSeconds, chars);
        return new string(chars[..written]);
    }

    /// <summary>The key id a cookie value names, read from its first four characters without checking anything else
    /// (cluster mode asks whether the key ring holds it before validating; <see cref="CookieKeyReread"/>).</summary>
    /// <returns>False when the value has not the cookie's length or version.</returns>
    public static bool TryReadKeyId(ReadOnlySpan<char> value, out byte keyId)
    {
        keyId = 0;
        Span<byte> head = stackalloc byte[3];
        if (value.Length != EncodedLength
            || Base64Url.DecodeFromChars(value[..4], head, out _, out var written, isFinalBlock: false) != System.Buffers.OperationStatus.Done
            || written != 3 || head[0] != Version)
        {
            return false;
        }

        keyId = head[1];
        return true;
    }

    /// <summary>Validates a cookie value. Allocates nothing.</summary>
    /// <param name="keys">The key ring; any key in it validates.</param>
    /// <param name="value">The cookie value as the client sent it.</param>
    /// <param name="loadBalancerId">The load balancer receiving the request; a cookie of another one is foreign.</param>
    /// <param name="nowUnixSeconds">Now, in Unix seconds.</param>
    /// <param name="timeoutSeconds">The stickiness duration (idle timeout) in seconds.</param>
    /// <param name="nodeId">The node the cookie names, when valid.</param>
    /// <param name="lastUseUnixSeconds">When the cookie was last issued or refreshed, in Unix seconds, when valid.</param>
    /// <returns>True when the value is well-formed, correctly signed, for this load balancer and not expired.</returns>
    public static bool TryValidate(
        CookieKeyRing keys,
        ReadOnlySpan<char> value,
        int loadBalancerId,
        long nowUnixSeconds,
        int timeoutSeconds,
        out int nodeId,
        out long lastUseUnixSeconds) =>
        TryValidate(keys, value, loadBalancerId, nowUnixSeconds, timeoutSeconds, out nodeId, out _, out lastUseUnixSeconds);

    /// <summary>Validates a cookie value and returns its session id too. Allocates nothing.</summary>
    /// <param name="keys">The key ring; any key in it validates.</param>
    /// <param name="value">The cookie value as the client sent it.</param>
    /// <param name="loadBalancerId">The load balancer receiving the request; a cookie of another one is foreign.</param>
    /// <param name="nowUnixSeconds">Now, in Unix seconds.</param>
    /// <param name="timeoutSeconds">The stickiness duration (idle timeout) in seconds.</param>
    /// <param name="nodeId">The node the cookie names, when valid.</param>
    /// <param name="sessionId">The session id the cookie carries, when valid.</param>
    /// <param name="lastUseUnixSeconds">When the cookie was last issued or refreshed, in Unix seconds, when valid.</param>
    /// <returns>True when the value is well-formed, correctly signed, for this load balancer and not expired.</returns>
    public static bool TryValidate(
        CookieKeyRing keys,
        ReadOnlySpan<char> value,
        int loadBalancerId,
        long nowUnixSeconds,
        int timeoutSeconds,
        out int nodeId,
        out long sessionId,
        out long lastUseUnixSeconds)
    {
        nodeId = 0;
        sessionId = 0;
        lastUseUnixSeconds = 0;
        if (value.Length != EncodedLength)
        {
            return false;
        }

        Span<byte> buffer = stackalloc byte[TotalLength];
        if (Base64Url.DecodeFromChars(value, buffer, out var consumed, out var written) != System.Buffers.OperationStatus.Done
            || consumed != EncodedLength || written != TotalLength || buffer[0] != Version)
        {
            return false;
        }

        var secret = keys.Find(buffer[1]);
        if (secret is null)
        {
            return false;
        }

        Span<byte> mac = stackalloc byte[32];
        Mac(buffer[1], secret, buffer[..PayloadLength], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac[..MacLength], buffer[PayloadLength..]))
        {
            return false;
        }

        if (BinaryPrimitives.ReadInt32LittleEndian(buffer.Slice(2, 4)) != loadBalancerId)
        {
            return false;
        }

        var lastUse = BinaryPrimitives.ReadInt64LittleEndian(buffer.Slice(18, 8));
        if (nowUnixSeconds - lastUse > timeoutSeconds || lastUse - nowUnixSeconds > 60)
        {
            // Idle for longer than the stickiness duration, or dated in the future beyond clock skew.
            return false;
        }

        nodeId = BinaryPrimitives.ReadInt32LittleEndian(buffer.Slice(6, 4));
        sessionId = BinaryPrimitives.ReadInt64LittleEndian(buffer.Slice(10, 8));
        lastUseUnixSeconds = lastUse;
        return true;
    }

    /// <summary>
    /// HMAC-SHA256 with a keyed context reused per thread and key id: the one-shot <c>HMACSHA256.HashData</c> sets
    /// the key up on every call, which costs several microseconds on OpenSSL; a reused context does not.
    /// Allocates only the first time a thread meets a key.
    /// </summary>
    private static void Mac(byte keyId, byte[] secret, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        var contexts = t_contexts ??= new MacContext?[256];
        var context = contexts[keyId];
        if (context is null || !ReferenceEquals(context.Secret, secret))
        {
            context?.Hash.Dispose();
            context = new MacContext(secret, IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret));
            contexts[keyId] = context;
        }

        context.Hash.AppendData(data);
        context.Hash.GetHashAndReset(destination);
    }

    [ThreadStatic]
    private static MacContext?[]? t_contexts;

    private sealed record MacContext(byte[] Secret, IncrementalHash Hash);
}

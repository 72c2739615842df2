using System.Buffers.Text;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.SessionPersistence;

public sealed class PersistenceCookieTests
{
    private const int Lb = 7;
    private const int NodeId = 42;
    private const long Issued = 1_735_689_600; // 2025-01-01T00:00:00Z
    private const int Timeout = 1200;
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    [Fact]
    public void Encode_ThenTryValidate_RoundTripsNodeAndLastUse()
    {
        var keys = Ring(1);
        var value = PersistenceCookie.Encode(keys, Lb, NodeId, Issued);

        var ok = PersistenceCookie.TryValidate(keys, value, Lb, Issued + 5, Timeout, out var nodeId, out var lastUse);

        Assert.True(ok);
        Assert.Equal(NodeId, nodeId);
        Assert.Equal(Issued, lastUse);
    }

    [Fact]
    public void Encode_Value_HasEncodedLengthAndBase64UrlCharactersOnly()
    {
        var value = PersistenceCookie.Encode(Ring(1), Lb, NodeId, Issued);

        Assert.Equal(PersistenceCookie.EncodedLength, value.Length);
        Assert.Equal(56, value.Length);
        Assert.All(value, ch => Assert.Contains(ch, Alphabet));
    }

    [Fact]
    public void Encode_SpanOverload_WritesEncodedLengthCharactersEqualToStringOverload()
    {
        Span<char> buffer = stackalloc char[64];
        var written = PersistenceCookie.Encode(Ring(1), Lb, NodeId, Issued, buffer);

        Assert.Equal(PersistenceCookie.EncodedLength, written);
        Assert.Equal(PersistenceCookie.Encode(Ring(1), Lb, NodeId, Issued), buffer[..written].ToString());
    }

    [Fact]
    public void Encode_Layout_CarriesVersionKeyIdAndIdsButNoAddress()
    {
        var value = PersistenceCookie.Encode(Ring(3), Lb, NodeId, Issued);
        var bytes = Base64Url.DecodeFromChars(value);

        Assert.Equal(42, bytes.Length);
        Assert.Equal(2, bytes[0]);
        Assert.Equal(3, bytes[1]);
        Assert.Equal(Lb, BitConverter.ToInt32(bytes, 2));
        Assert.Equal(NodeId, BitConverter.ToInt32(bytes, 6));
        Assert.Equal(0L, BitConverter.ToInt64(bytes, 10));
        Assert.Equal(Issued, BitConverter.ToInt64(bytes, 18));
    }

    [Fact]
    public void TryValidate_SessionId_RoundTrips()
    {
        var value = PersistenceCookie.Encode(Ring(1), Lb, NodeId, 0x1234_5678_9abc_def0, Issued);

        Assert.True(PersistenceCookie.TryValidate(Ring(1), value, Lb, Issued, Timeout, out var nodeId, out var sessionId, out var lastUse));
        Assert.Equal(NodeId, nodeId);
        Assert.Equal(0x1234_5678_9abc_def0, sessionId);
        Assert.Equal(Issued, lastUse);
    }

    [Fact]
    public void BuildSetCookie_Value_ContainsNeitherNodeAddressNorPort()
    {
        var clock = Clock();
        var runtime = new LoadBalancerRuntime(
            LoadBalancer(Node(1, address: "192.168.77.13", port: 8443)).WithCookie(), Ring(1), clock, new SeededRandomSource(1));
        var node = runtime.Snapshot.FindNode(1)!;

        var value = CookieValue(runtime.BuildSetCookie(runtime.Snapshot, node));
        var decoded = Base64Url.DecodeFromChars(value);

        Assert.DoesNotContain("192.168.77.13", value);
        Assert.DoesNotContain("192", value);
        Assert.DoesNotContain("8443", value);
        Assert.False(ContainsSequence(decoded, [192, 168, 77, 13]));
        Assert.False(ContainsSequence(decoded, BitConverter.GetBytes((ushort)8443)));
    }

    [Fact]
    public void BuildSetCookie_SameNodeIdDifferentAddress_GivesIdenticalValue()
    {
        var first = new LoadBalancerRuntime(LoadBalancer(Node(1, address: "10.1.1.1", port: 80)).WithCookie(), Ring(1), Clock(), new SeededRandomSource(1));
        var second = new LoadBalancerRuntime(LoadBalancer(Node(1, address: "2001:db8::5", port: 9000)).WithCookie(), Ring(1), Clock(), new SeededRandomSource(1));

        var a = CookieValue(first.BuildSetCookie(first.Snapshot, first.Snapshot.FindNode(1)!));
        var b = CookieValue(second.BuildSetCookie(second.Snapshot, second.Snapshot.FindNode(1)!));

        Assert.Equal(a, b);
    }

    [Fact]
    public void TryValidate_EverySingleCharacterTamper_Fails()
    {
        var keys = Ring(1);
        var value = PersistenceCookie.Encode(keys, Lb, NodeId, Issued);
        var accepted = new List<string>();

        for (var i = 0; i < value.Length; i++)
        {
            foreach (var ch in Alphabet)
            {
                if (ch == value[i])
                {
                    continue;
                }

                var tampered = string.Concat(value.AsSpan(0, i), ch.ToString(), value.AsSpan(i + 1));
                if (PersistenceCookie.TryValidate(keys, tampered, Lb, Issued, Timeout, out _, out _))
                {
                    accepted.Add($"position {i}: '{value[i]}' -> '{ch}'");
                }
            }
        }

        Assert.Empty(accepted);
    }

    [Fact]
    public void TryValidate_TamperOfAnyPayloadOrMacByte_Fails()
    {
        var keys = Ring(1);
        var bytes = Base64Url.DecodeFromChars(PersistenceCookie.Encode(keys, Lb, NodeId, Issued));

        for (var i = 0; i < bytes.Length; i++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                var copy = (byte[])bytes.Clone();
                copy[i] ^= (byte)(1 << bit);
                Assert.False(
                    PersistenceCookie.TryValidate(keys, Base64Url.EncodeToString(copy), Lb, Issued, Timeout, out _, out _),
                    $"byte {i} bit {bit}");
            }
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("not a cookie value at all, forty six chars..!")]
    public void TryValidate_Garbage_Fails(string value)
    {
        Assert.False(PersistenceCookie.TryValidate(Ring(1), value, Lb, Issued, Timeout, out var nodeId, out var lastUse));
        Assert.Equal(0, nodeId);
        Assert.Equal(0, lastUse);
    }

    [Fact]
    public void TryValidate_ValueWithExtraCharacter_Fails()
    {
        var keys = Ring(1);
        var value = PersistenceCookie.Encode(keys, Lb, NodeId, Issued);

        Assert.False(PersistenceCookie.TryValidate(keys, value + "A", Lb, Issued, Timeout, out _, out _));
        Assert.False(PersistenceCookie.TryValidate(keys, value.AsSpan()[..^1], Lb, Issued, Timeout, out _, out _));
    }

    [Fact]
    public void TryValidate_ForeignLoadBalancer_Fails()
    {
        var keys = Ring(1);
        var value = PersistenceCookie.Encode(keys, Lb + 1, NodeId, Issued);

        Assert.False(PersistenceCookie.TryValidate(keys, value, Lb, Issued, Timeout, out var nodeId, out _));
        Assert.Equal(0, nodeId);
    }

    [Fact]
    public void TryValidate_KeyRotation_OldCookieValidatesAndNewCookiesUseNewKey()
    {
        var value1 = PersistenceCookie.Encode(Ring(1), Lb, NodeId, Issued);
        var rotated = Ring(1, 2);

        Assert.True(PersistenceCookie.TryValidate(rotated, value1, Lb, Issued, Timeout, out var nodeId, out _));
        Assert.Equal(NodeId, nodeId);

        var value2 = PersistenceCookie.Encode(rotated, Lb, NodeId, Issued);
        Assert.Equal(2, Base64Url.DecodeFromChars(value2)[1]);
        Assert.True(PersistenceCookie.TryValidate(Ring(2), value2, Lb, Issued, Timeout, out _, out _));
        Assert.False(PersistenceCookie.TryValidate(Ring(1), value2, Lb, Issued, Timeout, out _, out _));
    }

    [Fact]
    public void TryValidate_RingWithoutSigningKey_Fails()
    {
        var value = PersistenceCookie.Encode(Ring(1), Lb, NodeId, Issued);

        Assert.False(PersistenceCookie.TryValidate(Ring(2), value, Lb, Issued, Timeout, out _, out _));
        Assert.False(PersistenceCookie.TryValidate(Ring(2, 3), value, Lb, Issued, Timeout, out _, out _));
    }

    [Fact]
    public void TryValidate_SameKeyIdDifferentSecret_Fails()
    {
        var value = PersistenceCookie.Encode(Ring(1), Lb, NodeId, Issued);
        var impostor = new CookieKeyRing([new CookieKey(1, Secret(0xEE))]);

        Assert.False(PersistenceCookie.TryValidate(impostor, value, Lb, Issued, Timeout, out _, out _));
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(Timeout, true)]
    [InlineData(Timeout + 1, false)]
    [InlineData(-60, true)]
    [InlineData(-61, false)]
    [InlineData(-3600, false)]
    public void TryValidate_Age_AcceptedOnlyWithinTimeoutAndSixtySecondsSkew(int ageSeconds, bool expected)
    {
        var keys = Ring(1);
        var value = PersistenceCookie.Encode(keys, Lb, NodeId, Issued);

        Assert.Equal(expected, PersistenceCookie.TryValidate(keys, value, Lb, Issued + ageSeconds, Timeout, out _, out _));
    }

    private static bool ContainsSequence(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                return true;
            }
        }

        return false;
    }
}

using System.Net;
using System.Net.Sockets;
using Tether.Core.SessionPersistence;

namespace Tether.Core.Tests.SessionPersistence;

public sealed class ClientAddressTests
{
    [Fact]
    public void ToKey_IPv4AndMappedIPv6_GiveSameKey()
    {
        var v4 = IPAddress.Parse("203.0.113.9");
        var mapped = IPAddress.Parse("::ffff:203.0.113.9");

        Assert.Equal(ClientAddress.ToKey(v4), ClientAddress.ToKey(mapped));
        Assert.Equal(ClientAddress.ToKey(v4), ClientAddress.ToKey(v4.MapToIPv6()));
    }

    [Fact]
    public void ToKey_IPv4_IsMappedLayout()
    {
        var key = ClientAddress.ToKey(IPAddress.Parse("1.2.3.4"));

        Assert.Equal(new UInt128(0, 0x0000_ffff_0102_0304UL), key);
    }

    [Fact]
    public void ToKey_IPv6_IsBigEndianBytes()
    {
        var key = ClientAddress.ToKey(IPAddress.Parse("2001:db8::1"));

        Assert.Equal(new UInt128(0x2001_0db8_0000_0000UL, 1UL), key);
    }

    [Fact]
    public void ToKey_Null_IsZero()
    {
        Assert.Equal(UInt128.Zero, ClientAddress.ToKey(null));
    }

    [Fact]
    public void ToKey_DifferentAddresses_GiveDifferentKeys()
    {
        var keys = new HashSet<UInt128>
        {
            ClientAddress.ToKey(IPAddress.Parse("10.0.0.1")),
            ClientAddress.ToKey(IPAddress.Parse("10.0.0.2")),
            ClientAddress.ToKey(IPAddress.Parse("1.0.0.10")),
            ClientAddress.ToKey(IPAddress.Parse("::10.0.0.1")),
            ClientAddress.ToKey(IPAddress.Parse("fe80::1")),
            ClientAddress.ToKey(IPAddress.Parse("::1")),
        };

        Assert.Equal(6, keys.Count);
    }

    [Theory]
    [InlineData("192.0.2.55")]
    [InlineData("0.0.0.1")]
    [InlineData("255.255.255.255")]
    public void FromKey_IPv4Key_RoundTripsToIPv4(string text)
    {
        var address = IPAddress.Parse(text);

        var back = ClientAddress.FromKey(ClientAddress.ToKey(address));

        Assert.Equal(AddressFamily.InterNetwork, back.AddressFamily);
        Assert.Equal(address, back);
    }

    [Fact]
    public void FromKey_MappedIPv6Key_ComesBackAsIPv4()
    {
        var back = ClientAddress.FromKey(ClientAddress.ToKey(IPAddress.Parse("::ffff:198.51.100.7")));

        Assert.Equal(IPAddress.Parse("198.51.100.7"), back);
    }

    [Theory]
    [InlineData("2001:db8::1")]
    [InlineData("::1")]
    [InlineData("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe")]
    public void FromKey_IPv6Key_RoundTrips(string text)
    {
        var address = IPAddress.Parse(text);

        var back = ClientAddress.FromKey(ClientAddress.ToKey(address));

        Assert.Equal(AddressFamily.InterNetworkV6, back.AddressFamily);
        Assert.Equal(address, back);
    }
}

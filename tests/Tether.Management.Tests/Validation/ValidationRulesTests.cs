using Tether.Management.Validation;
using static Tether.Management.Tests.Validation.ValidationKit;

namespace Tether.Management.Tests.Validation;

/// <summary>The field rules the validators share (ValidationRules).</summary>
public sealed class ValidationRulesTests
{
    [Theory]
    [InlineData("10.0.0.1", "10.0.0.1")]
    [InlineData("2001:DB8::0:1", "2001:db8::1")]
    public void ParseNodeAddress_Literal_IsCanonical(string text, string expected)
    {
        Assert.Equal(expected, ValidationRules.ParseNodeAddress(text, out var problem));
        Assert.Null(problem);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("10.0.1")]
    [InlineData("010.0.0.1x")]
    [InlineData("example.com")]
    [InlineData("")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    public void ParseNodeAddress_NotADottedQuadOrIpv6_IsRefusedWithAReason(string text)
    {
        Assert.Null(ValidationRules.ParseNodeAddress(text, out var problem));
        Assert.False(string.IsNullOrEmpty(problem));
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(65535, true)]
    [InlineData(65536, false)]
    public void IsPort_Value_OneTo65535(int port, bool expected) => Assert.Equal(expected, ValidationRules.IsPort(port));

    [Theory]
    [InlineData("SESSIONID", true)]
    [InlineData("a b", false)]
    [InlineData("a;b", false)]
    [InlineData("", false)]
    public void IsCookieToken_Value_IsAnRfc6265Token(string value, bool expected) => Assert.Equal(expected, ValidationRules.IsCookieToken(value));

    [Theory]
    [InlineData("/", true)]
    [InlineData("/app", true)]
    [InlineData("app", false)]
    [InlineData("/a;b", false)]
    public void IsCookiePath_Value_StartsWithSlashWithoutSemicolon(string value, bool expected) => Assert.Equal(expected, ValidationRules.IsCookiePath(value));

    [Theory]
    [InlineData("example.com", true)]
    [InlineData(".example.com", true)]
    [InlineData("a b.com", false)]
    [InlineData("a..b", false)]
    public void IsCookieDomain_Value_IsAHostName(string value, bool expected) => Assert.Equal(expected, ValidationRules.IsCookieDomain(value));

    [Theory]
    [InlineData("10.0.0.1", "10.0.0.1", true)]
    [InlineData("0.0.0.0", "10.0.0.1", true)]
    [InlineData("::", "2001:db8::1", true)]
    [InlineData("0.0.0.0", "::", false)]
    [InlineData("10.0.0.1", "10.0.0.2", false)]
    public void AddressesOverlap_Pair_EqualOrSameFamilyWildcard(string a, string b, bool expected)
    {
        Assert.Equal(expected, ValidationRules.AddressesOverlap(a, b));
        Assert.Equal(expected, ValidationRules.AddressesOverlap(b, a));
    }

    [Fact]
    public void FindListenerConflict_DnsTcpAndDnsUdpOnOnePort_DoNotCollide()
    {
        var dnsTcp = Existing(id: 1, protocol: "DNS_TCP", port: 53);

        Assert.Null(ValidationRules.FindListenerConflict([dnsTcp], 0, "127.0.0.1", 53, "DNS_UDP"));
        Assert.Same(dnsTcp, ValidationRules.FindListenerConflict([dnsTcp], 0, "127.0.0.1", 53, "TCP"));
        Assert.Null(ValidationRules.FindListenerConflict([dnsTcp], 1, "127.0.0.1", 53, "TCP"));
    }
}

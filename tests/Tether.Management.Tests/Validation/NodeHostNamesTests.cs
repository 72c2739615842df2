using Tether.Management.Validation;

namespace Tether.Management.Tests.Validation;

/// <summary>Node addresses by host name (<see cref="NodeHostNames"/>): an RFC 1123 name within an allowed domain.</summary>
public sealed class NodeHostNamesTests
{
    private static readonly string[] Domains = ["example.com", "localhost"];

    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("web-1.Example.COM", "web-1.example.com")]
    [InlineData("a.b.example.com.", "a.b.example.com")]
    [InlineData("localhost", "localhost")]
    [InlineData("LOCALHOST", "localhost")]
    public void Check_WithinAnAllowedDomain_ReturnsTheLowerCaseName(string address, string expected)
    {
        Assert.Equal(expected, NodeHostNames.Check(address, Domains, out var problem));
        Assert.Null(problem);
    }

    [Theory]
    [InlineData("badexample.com")]
    [InlineData("example.com.evil.org")]
    [InlineData("example.org")]
    [InlineData("com")]
    public void Check_NotWithinAnAllowedDomain_IsRefusedWithTheDomains(string address)
    {
        Assert.Null(NodeHostNames.Check(address, Domains, out var problem));
        Assert.Contains("not within an allowed domain (example.com, localhost)", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-web.example.com")]
    [InlineData("web-.example.com")]
    [InlineData("web_1.example.com")]
    [InlineData("a..example.com")]
    [InlineData(" web.example.com")]
    [InlineData("http://web.example.com")]
    public void Check_Malformed_IsRefusedAsNotAHostName(string address)
    {
        Assert.Null(NodeHostNames.Check(address, Domains, out var problem));
        Assert.Contains("or a host name", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_LabelOf64OrNameOver253_IsRefused()
    {
        Assert.NotNull(NodeHostNames.Check(new string('a', 63) + ".example.com", Domains, out _));
        Assert.Null(NodeHostNames.Check(new string('a', 64) + ".example.com", Domains, out _));
        var long254 = string.Join('.', Enumerable.Repeat(new string('a', 61), 4)) + ".example.com";
        Assert.True(long254.Length > 253);
        Assert.Null(NodeHostNames.Check(long254, Domains, out _));
    }

    [Fact]
    public void Check_NoAllowedDomains_IsRefusedSayingNoneIsConfigured()
    {
        Assert.Null(NodeHostNames.Check("web.example.com", [], out var problem));
        Assert.Contains("none is configured", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.0.1", true)]
    [InlineData("1.2.3", true)]
    [InlineData("2001:db8::1", true)]
    [InlineData("web.example.com", false)]
    [InlineData("3com.example.com", false)]
    public void LooksLikeIpAddress_DigitsDotsOrColon_FollowsTheIpRules(string address, bool ip)
    {
        Assert.Equal(ip, NodeHostNames.LooksLikeIpAddress(address));
    }
}

using System.Net;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;

namespace Tether.Core.Tests.Runtime;

/// <summary>The compiled access list (issue 6; Rackspace: ALLOW wins over DENY, an address matching no item is let in).</summary>
public sealed class AccessListMatcherTests
{
    private static UInt128 Key(string address) => ClientAddress.ToKey(IPAddress.Parse(address));

    private static AccessListMatcher Build(params (string Address, AccessListType Type)[] items) =>
        AccessListMatcher.Build(items.Select((item, i) => new AccessListItem(i + 1, item.Address, item.Type)));

    [Fact]
    public void IsAllowed_EmptyList_AllowsEveryone()
    {
        Assert.True(AccessListMatcher.Build([]).IsAllowed(Key("203.0.113.9")));
        Assert.True(AccessListMatcher.Build([]).IsEmpty);
    }

    [Theory]
    [InlineData("10.1.2.3", false)]
    [InlineData("10.9.9.9", true)]
    [InlineData("11.0.0.1", true)]
    public void IsAllowed_DenyNetworkWithAllowedHost_AllowWins(string address, bool allowed)
    {
        var matcher = Build(("10.1.0.0/16", AccessListType.Deny), ("10.9.9.9", AccessListType.Allow), ("10.0.0.0/8", AccessListType.Deny),
            ("10.9.0.0/16", AccessListType.Allow));

        Assert.Equal(allowed, matcher.IsAllowed(Key(address)));
    }

    [Fact]
    public void IsAllowed_DenyAllIpv4_LeavesIpv6AloneAndIpv6AllDeniesBoth()
    {
        var v4 = Build(("0.0.0.0/0", AccessListType.Deny));
        var all = Build(("::/0", AccessListType.Deny));

        Assert.False(v4.IsAllowed(Key("192.0.2.1")));
        Assert.True(v4.IsAllowed(Key("2001:db8::1")));
        Assert.False(all.IsAllowed(Key("192.0.2.1")));
        Assert.False(all.IsAllowed(Key("2001:db8::1")));
    }

    [Theory]
    [InlineData("2001:db8::/32", "2001:db8:1::5", false)]
    [InlineData("2001:db8::/32", "2001:db9::5", true)]
    [InlineData("::1", "::1", false)]
    public void IsAllowed_Ipv6Deny_MatchesPrefix(string network, string address, bool allowed) =>
        Assert.Equal(allowed, Build((network, AccessListType.Deny)).IsAllowed(Key(address)));

    [Fact]
    public void IsAllowed_HundredItems_AllocatesNothing()
    {
        var matcher = AccessListMatcher.Build(Enumerable.Range(0, 100).Select(i => new AccessListItem(i, $"10.{i}.0.0/16", AccessListType.Deny)));
        var key = Key("192.0.2.1");
        matcher.IsAllowed(key);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            matcher.IsAllowed(key);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData("192.0.2.7", "192.0.2.7")]
    [InlineData("2001:DB8::/32", "2001:db8::/32")]
    public void TryParse_Valid_GivesCanonicalText(string text, string canonical)
    {
        Assert.True(NetworkAddress.TryParse(text, out var network, out var problem));
        Assert.Null(problem);
        Assert.Equal(canonical, network.Canonical);
    }

    [Theory]
    [InlineData("10")]
    [InlineData("10.0.0.0/")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("10.0.0.1/24")]
    [InlineData("fe80::1%eth0")]
    [InlineData("/8")]
    public void TryParse_Invalid_GivesProblem(string text)
    {
        Assert.False(NetworkAddress.TryParse(text, out _, out var problem));
        Assert.NotNull(problem);
    }
}

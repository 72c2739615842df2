using Tether.Core.Model;
using Tether.Management.Requests;
using Tether.Management.Validation;
using static Tether.Management.Tests.Validation.ValidationKit;

namespace Tether.Management.Tests.Validation;

/// <summary>The virtual IP rules (VirtualIpValidator; Rackspace v1.0 "Virtual IPs").</summary>
public sealed class VirtualIpValidatorTests
{
    [Theory]
    [InlineData("""[{"type":"PUBLIC"}]""", "127.0.0.1", "IPV4")]
    [InlineData("""[{"type":"SERVICENET"}]""", "127.0.0.2", "IPV4")]
    [InlineData("""[{"type":"PUBLIC","ipVersion":"IPV6"}]""", "::1", "IPV6")]
    public void ValidateAtCreation_OneVirtualIp_BindsTheConfiguredAddress(string vips, string address, string version)
    {
        var errors = new List<string>();

        var plans = VirtualIpValidator.ValidateAtCreation(Create(vips), Context(), errors);

        Assert.Empty(errors);
        var plan = Assert.Single(plans!);
        Assert.Equal((address, version), (plan.Address, plan.IpVersion));
    }

    [Fact]
    public void ValidateAtCreation_IdOfAVirtualIpOfTheAccount_IsShared()
    {
        var errors = new List<string>();
        var other = Existing(id: 3);

        var plans = VirtualIpValidator.ValidateAtCreation(Create("""[{"id":3}]"""), Context(other), errors);

        Assert.Empty(errors);
        Assert.Same(other.VirtualIps[0], Assert.Single(plans!).Shared);
    }

    [Theory]
    [InlineData("[]", "virtualIps: give one virtual IP, or two")]
    [InlineData("""[{"type":"PUBLIC"},{"type":"PUBLIC"}]""", "virtualIps: two virtual IPs must be of different ipVersion")]
    [InlineData("""[{"type":"PUBLIC"},{"type":"PUBLIC","ipVersion":"IPV6"},{"type":"SERVICENET"}]""", "virtualIps: give one virtual IP, or two")]
    [InlineData("""[{"type":"SERVICENET","ipVersion":"IPV6"}]""", "virtualIps[0]: a SERVICENET virtual IP is IPV4 only")]
    [InlineData("""[{"type":"PRIVATE"}]""", "virtualIps[0].type: must be PUBLIC or SERVICENET")]
    [InlineData("""[{"ipVersion":"IPV4"}]""", "virtualIps[0].type: is required")]
    [InlineData("""[{"type":"PUBLIC","ipVersion":"IPV5"}]""", "virtualIps[0].ipVersion: must be IPV4 or IPV6")]
    [InlineData("""[{"id":99}]""", "virtualIps[0].id: virtual IP 99 was not found")]
    public void ValidateAtCreation_RuleBroken_IsRefused(string vips, string expected)
    {
        var errors = new List<string>();

        Assert.Null(VirtualIpValidator.ValidateAtCreation(Create(vips), Context(Existing(id: 3)), errors));
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateAdded_PublicIpv6_IsAccepted()
    {
        var errors = new List<string>();

        Assert.True(VirtualIpValidator.ValidateAdded(Added("""{"type":"PUBLIC","ipVersion":"IPV6"}"""), errors));
        Assert.Empty(errors);
    }

    [Theory]
    [InlineData("""{"type":"PUBLIC","ipVersion":"IPV4"}""", "ipVersion: IPV4 virtual IPs cannot be added after creation")]
    [InlineData("""{"type":"PUBLIC"}""", "ipVersion: is required and must be IPV6")]
    [InlineData("""{"type":"SERVICENET","ipVersion":"IPV6"}""", "type: ")]
    [InlineData("""{"ipVersion":"IPV6"}""", "type: is required and must be PUBLIC")]
    public void ValidateAdded_RuleBroken_IsRefused(string json, string expected)
    {
        var errors = new List<string>();

        Assert.False(VirtualIpValidator.ValidateAdded(Added(json), errors));
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(VirtualIpType.Public, "IPV4", "127.0.0.1")]
    [InlineData(VirtualIpType.ServiceNet, "IPV4", "127.0.0.2")]
    [InlineData(VirtualIpType.Public, "IPV6", "::1")]
    public void AddressOf_TypeAndVersion_IsTheConfiguredAddress(VirtualIpType type, string version, string expected) =>
        Assert.Equal(expected, VirtualIpValidator.AddressOf(type, version, Context().Options));

    private static LoadBalancerRequest Create(string vips) =>
        LoadBalancer($$"""{"name":"a","protocol":"HTTP","port":8080,"virtualIps":{{vips}},"nodes":[{"address":"10.0.0.1","port":80}]}""");

    private static VirtualIpRequest Added(string json) => VirtualIpRequest.Read(Reader(json));
}

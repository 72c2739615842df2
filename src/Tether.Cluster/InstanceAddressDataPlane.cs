using Tether.Core;
using Tether.Core.Model;

namespace Tether.Cluster;

/// <summary>
/// Cluster mode: every instance binds a load balancer's virtual IPs on its own addresses (issue 14). The stored
/// address of a virtual IP is the one of the instance that created it; here a PUBLIC IPv4 virtual IP binds this
/// instance's <c>PublicAddress</c>, a PUBLIC IPv6 one its <c>PublicAddressV6</c>, a SERVICENET one its
/// <c>PrivateAddress</c> (the same rule that gave the stored address at creation, docs/operations.md), so instances
/// configured alike bind alike, and two instances on one machine (127.0.0.2, 127.0.0.3) do not collide.
/// </summary>
/// <param name="inner">The data plane.</param>
/// <param name="publicAddress">This instance's <c>PublicAddress</c>.</param>
/// <param name="publicAddressV6">This instance's <c>PublicAddressV6</c>.</param>
/// <param name="privateAddress">This instance's <c>PrivateAddress</c>.</param>
public sealed class InstanceAddressDataPlane(IDataPlane inner, string publicAddress, string publicAddressV6, string privateAddress) : IDataPlane
{
    /// <inheritdoc />
    public Task ApplyAsync(LoadBalancerConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        return inner.ApplyAsync(config with { VirtualIps = [.. config.VirtualIps.Select(Local)] }, cancellationToken);
    }

    /// <inheritdoc />
    public Task RemoveAsync(int loadBalancerId, CancellationToken cancellationToken) => inner.RemoveAsync(loadBalancerId, cancellationToken);

    private VirtualIpConfig Local(VirtualIpConfig vip) => vip with
    {
        Address = vip.Type == VirtualIpType.ServiceNet ? privateAddress
            : vip.IpVersion == "IPV6" ? publicAddressV6 : publicAddress,
    };
}

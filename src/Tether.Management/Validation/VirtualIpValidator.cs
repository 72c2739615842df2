using Tether.Core.Model;
using Tether.Management.Requests;

namespace Tether.Management.Validation;

/// <summary>A virtual IP of a create request, validated: an existing one to share, or a new one (the service assigns
/// its id).</summary>
/// <param name="Shared">The virtual IP of the same account to share, or null for a new one.</param>
/// <param name="Type">PUBLIC or SERVICENET.</param>
/// <param name="Address">The address the virtual IP binds.</param>
/// <param name="IpVersion"><c>IPV4</c> or <c>IPV6</c>.</param>
internal sealed record VirtualIpPlan(VirtualIpConfig? Shared, VirtualIpType Type, string Address, string IpVersion);

/// <summary>
/// The rules of virtual IPs (Rackspace v1.0 "Virtual IPs", docs.rackspace.com/docs/cloud-load-balancers/v1/api-reference/virtual-ips,
/// and the clb-devguide's "Virtual IPs"; pkgcloud's addIPV6VirtualIp sends <c>{"ipVersion":"IPV6","type":"PUBLIC"}</c>).
/// At creation: one virtual IP, or two of different IP versions (Rackspace: "a single virtual IPv4 and/or a single
/// IPv6"), each <c>{"type":"PUBLIC|SERVICENET","ipVersion"?:"IPV4|IPV6"}</c> or <c>{"id":N}</c> (share one of the
/// same account). A missing <c>ipVersion</c> is IPV4 (Rackspace gives PUBLIC "IPV4 &amp; IPV6"; Tether gives one
/// virtual IP, see docs/api.md "Virtual IPs"). SERVICENET is IPV4 only. After creation, only IPV6 PUBLIC virtual IPs
/// can be added (<c>POST /virtualips</c>), at most <see cref="Limits.Ipv6Limit"/> per load balancer (IPV6_LIMIT).
/// </summary>
internal static class VirtualIpValidator
{
    public const string Ipv4 = "IPV4";
    public const string Ipv6 = "IPV6";

    /// <summary>The virtual IPs of a create request, or null when any error was added.</summary>
    public static IReadOnlyList<VirtualIpPlan>? ValidateAtCreation(LoadBalancerRequest request, ValidationContext context, List<string> errors)
    {
        const string Forms = "{\"type\":\"PUBLIC\"}, {\"type\":\"PUBLIC\",\"ipVersion\":\"IPV6\"}, {\"type\":\"SERVICENET\"} or {\"id\":N}";
        var vips = request.VirtualIps;
        if (vips is null)
        {
            if (!request.Issues.IsInvalid("virtualIps"))
            {
                errors.Add($"virtualIps: one virtual IP is required ({Forms})");
            }

            return null;
        }

        if (vips.Count is 0 or > 2)
        {
            errors.Add($"virtualIps: give one virtual IP, or two of different ipVersion (one IPV4 and one IPV6) (got {vips.Count})");
            return null;
        }

        var before = errors.Count;
        var plans = new List<VirtualIpPlan>();
        foreach (var vip in vips)
        {
            if (ValidateOne(vip, request.Issues, context, errors) is { } plan)
            {
                plans.Add(plan);
            }
        }

        if (errors.Count != before || plans.Count != vips.Count)
        {
            return null;
        }

        if (plans.Count == 2 && plans[0].IpVersion == plans[1].IpVersion)
        {
            errors.Add($"virtualIps: two virtual IPs must be of different ipVersion (one IPV4 and one IPV6; both are {plans[0].IpVersion})");
            return null;
        }

        return plans;
    }

    private static VirtualIpPlan? ValidateOne(VirtualIpRequest vip, Api.ReadIssues issues, ValidationContext context, List<string> errors)
    {
        if (vip.Id is { } id)
        {
            var shared = context.All
                .Where(lb => lb.AccountId == context.AccountId)
                .SelectMany(lb => lb.VirtualIps)
                .FirstOrDefault(v => v.Id == id);
            if (shared is null)
            {
                errors.Add($"{vip.Path}.id: virtual IP {id} was not found on any load balancer of this account");
                return null;
            }

            return new VirtualIpPlan(shared, shared.Type, shared.Address, shared.IpVersion);
        }

        var version = vip.IpVersion ?? Ipv4;
        var ok = true;
        if (version is not (Ipv4 or Ipv6))
        {
            errors.Add($"{vip.Path}.ipVersion: must be IPV4 or IPV6 (got '{vip.IpVersion}')");
            ok = false;
        }

        if (vip.Type is null)
        {
            if (!issues.IsInvalid($"{vip.Path}.type"))
            {
                errors.Add($"{vip.Path}.type: is required (PUBLIC or SERVICENET), unless id names a virtual IP to share");
            }

            return null;
        }

        if (!ApiNames.TryParseVirtualIpType(vip.Type, out var type))
        {
            errors.Add($"{vip.Path}.type: must be PUBLIC or SERVICENET (got '{vip.Type}')");
            return null;
        }

        if (type == VirtualIpType.ServiceNet && version == Ipv6)
        {
            errors.Add($"{vip.Path}: a SERVICENET virtual IP is IPV4 only (Rackspace); use {{\"type\":\"PUBLIC\",\"ipVersion\":\"IPV6\"}}");
            return null;
        }

        return ok ? new VirtualIpPlan(null, type, AddressOf(type, version, context.Options), version) : null;
    }

    /// <summary>Validates the body of <c>POST /loadbalancers/{id}/virtualips</c>
    /// (<c>{"ipVersion":"IPV6","type":"PUBLIC"}</c>): both fields required, IPV6 only (IPV4 virtual IPs cannot be added
    /// after creation), PUBLIC only (SERVICENET is IPV4 only). Returns false when any error was added. The IPV6_LIMIT
    /// (413) and listener conflicts (<see cref="ListenerConflicts"/>) are the caller's next checks.</summary>
    public static bool ValidateAdded(VirtualIpRequest request, List<string> errors)
    {
        var before = errors.Count;
        if (request.IpVersion is null)
        {
            if (!request.Issues.IsInvalid("ipVersion"))
            {
                errors.Add("ipVersion: is required and must be IPV6 (only IPV6 virtual IPs can be added to a load balancer)");
            }
        }
        else if (request.IpVersion == Ipv4)
        {
            errors.Add("ipVersion: IPV4 virtual IPs cannot be added after creation (Rackspace); add an IPV6 one, or share an IPV4 virtual IP by id when creating a load balancer");
        }
        else if (request.IpVersion != Ipv6)
        {
            errors.Add($"ipVersion: must be IPV6 (got '{request.IpVersion}')");
        }

        if (request.Type is null)
        {
            if (!request.Issues.IsInvalid("type"))
            {
                errors.Add("type: is required and must be PUBLIC");
            }
        }
        else if (!ApiNames.TryParseVirtualIpType(request.Type, out var type))
        {
            errors.Add($"type: must be PUBLIC (got '{request.Type}')");
        }
        else if (type == VirtualIpType.ServiceNet)
        {
            errors.Add("type: a SERVICENET virtual IP is IPV4 only (Rackspace); an added virtual IP is PUBLIC");
        }

        return errors.Count == before && request.Issues.Messages.Count == 0;
    }

    /// <summary>The conflicts of <paramref name="existing"/>'s listeners (its port, and its SSL termination's secure
    /// port) on <paramref name="address"/> with other load balancers' listeners.</summary>
    public static IEnumerable<string> ListenerConflicts(LoadBalancerConfig existing, string address, ValidationContext context)
    {
        if (ValidationRules.FindListenerConflict(context.All, existing.Id, address, existing.Port, existing.Protocol) is { } other)
        {
            yield return $"port: {existing.Port}/{(ValidationRules.IsUdp(existing.Protocol) ? "UDP" : "TCP")} is already used on {address} by load balancer {other.Id}";
        }

        if (existing.SslTermination is { Enabled: true } ssl
            && ValidationRules.FindListenerConflict(context.All, existing.Id, address, ssl.SecurePort, Protocols.Http) is { } secure)
        {
            yield return $"securePort: {address}:{ssl.SecurePort} is already used by load balancer {secure.Id}";
        }
    }

    /// <summary>The address a new virtual IP of <paramref name="type"/> and <paramref name="version"/> binds.</summary>
    public static string AddressOf(VirtualIpType type, string version, ManagementOptions options) =>
        version == Ipv6 ? options.PublicAddressV6 : type == VirtualIpType.Public ? options.PublicAddress : options.PrivateAddress;
}

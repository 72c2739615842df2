using Tether.Core.Model;
using Tether.Management.Api;
using Tether.Management.Requests;
using Tether.Management.Storage;
using Tether.Management.Validation;

namespace Tether.Management;

public sealed partial class LoadBalancerService
{
    /// <summary>
    /// Adds an IPV6 PUBLIC virtual IP (<c>POST /loadbalancers/{id}/virtualips</c>, Rackspace v1.0 "Add virtual IP
    /// version 6") bound on <see cref="ManagementOptions.PublicAddressV6"/> at the load balancer's port (and its SSL
    /// termination's secure port). 400 for a bad body (<see cref="VirtualIpValidator.ValidateAdded"/>), 413 beyond
    /// IPV6_LIMIT (<see cref="Limits.Ipv6Limit"/>), 400 when another load balancer listens there or the data plane
    /// cannot bind it (bind-first: the old listeners stay, nothing is stored). Returns the new virtual IP.
    /// </summary>
    internal Task<Outcome<VirtualIpConfig>> AddVirtualIpAsync(int accountId, int id, VirtualIpRequest request,
        CancellationToken cancellationToken) =>
        MutateAsync<VirtualIpConfig>(accountId, id, existing =>
        {
            var errors = new List<string>(request.Issues.Messages);
            if (!VirtualIpValidator.ValidateAdded(request, errors) || errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            var ipv6 = existing.VirtualIps.Count(v => v.IpVersion == VirtualIpValidator.Ipv6);
            if (ipv6 >= Limits.Ipv6Limit)
            {
                return new ApiError(413, $"IPv6 virtual IP limit reached: a load balancer may hold at most {Limits.Ipv6Limit} IPV6 virtual IP (IPV6_LIMIT; load balancer {id} has {ipv6}).");
            }

            var address = _options.PublicAddressV6;
            errors.AddRange(VirtualIpValidator.ListenerConflicts(existing, address, Context(accountId)));
            if (errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            var vip = new VirtualIpConfig
            {
                Id = _store.NextIds(Sequences.VirtualIp),
                Address = address,
                Type = VirtualIpType.Public,
                IpVersion = VirtualIpValidator.Ipv6,
            };
            return Change(existing with { VirtualIps = existing.VirtualIps.Add(vip) }, vip);
        }, cancellationToken);

    /// <summary>
    /// Removes virtual IPs from one load balancer (<c>DELETE /virtualips/{vipId}</c> and bulk <c>?id=</c>), all or
    /// nothing: each must be on this load balancer (404 otherwise), and at least one virtual IP stays (400, as
    /// Rackspace: "Attempting to delete the last virtual IP results in a 400"). A virtual IP shared with other load
    /// balancers is removed from this one only; its listeners close (in-flight connections finish).
    /// </summary>
    internal Task<Outcome<LoadBalancerConfig>> DeleteVirtualIpsAsync(int accountId, int id, IReadOnlyCollection<int> vipIds,
        CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            var wanted = vipIds.ToHashSet();
            if (BulkIds.Check(vipIds, v => existing.VirtualIps.Any(vip => vip.Id == v), new ApiError(404, "Virtual IP not found"), $"Not on load balancer {id}") is { } missing)
            {
                return missing;
            }

            var remaining = existing.VirtualIps.RemoveAll(v => wanted.Contains(v.Id));
            if (remaining.IsEmpty)
            {
                return ApiError.Validation(
                    "virtualIps: a load balancer must keep at least one virtual IP (Rackspace); delete the load balancer instead");
            }

            var next = existing with { VirtualIps = remaining };
            return Change(next, next);
        }, cancellationToken);
}

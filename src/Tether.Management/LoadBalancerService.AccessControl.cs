using System.Collections.Immutable;
using System.Text.Json;
using Tether.Core.Model;
using Tether.Management.Api;
using Tether.Management.Validation;

namespace Tether.Management;

public sealed partial class LoadBalancerService
{
    private const string UdpProtocols = "UDP-based protocols (DNS_UDP, UDP, UDP_STREAM)";

    /// <summary>Appends network items to the access list (POST <c>/accesslist</c>): 400 for an invalid or duplicate
    /// item, 413 past <see cref="AccessControlValidator.AccessListLimit"/> items.</summary>
    internal Task<Outcome<IReadOnlyList<AccessListItem>>> AddAccessListItemsAsync(int accountId, int id, JsonElement body,
        CancellationToken cancellationToken) =>
        MutateAsync<IReadOnlyList<AccessListItem>>(accountId, id, existing =>
        {
            if (ValidationRules.IsUdp(existing.Protocol))
            {
                return ApiError.Validation($"accessList: access lists are not available for {UdpProtocols}; this load balancer is {existing.Protocol}");
            }

            var errors = new List<string>();
            var added = AccessControlValidator.ValidateNewItems(body, existing.AccessList, errors);
            if (added is null || errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            if (existing.AccessList.Length + added.Count > AccessControlValidator.AccessListLimit)
            {
                return new ApiError(413, $"Access list limit reached: an access list may hold at most {AccessControlValidator.AccessListLimit} network items (ACCESS_LIST_LIMIT; it holds {existing.AccessList.Length}, {added.Count} more were given).");
            }

            var first = _store.NextIds(Storage.Sequences.AccessList, added.Count);
            IReadOnlyList<AccessListItem> created = [.. added.Select((item, i) => item with { Id = first + i })];
            return Change(existing with { AccessList = existing.AccessList.AddRange(created) }, created);
        }, cancellationToken);

    /// <summary>Deletes network items by id (all or nothing; 404 when one is not in the list), or every item when
    /// <paramref name="itemIds"/> is null.</summary>
    internal Task<Outcome<LoadBalancerConfig>> DeleteAccessListItemsAsync(int accountId, int id, IReadOnlyCollection<int>? itemIds,
        CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            if (itemIds is null)
            {
                var cleared = existing with { AccessList = [] };
                return Change(cleared, cleared);
            }

            if (BulkIds.Check(itemIds, n => existing.AccessList.Any(item => item.Id == n), new ApiError(404, "Network item not found")) is { } missing)
            {
                return missing;
            }

            var next = existing with { AccessList = existing.AccessList.RemoveAll(item => itemIds.Contains(item.Id)) };
            return Change(next, next);
        }, cancellationToken);

    /// <summary>Sets or changes the connection throttle (merged over the current one).</summary>
    internal Task<Outcome<LoadBalancerConfig>> SetConnectionThrottleAsync(int accountId, int id, FieldReader reader,
        CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            var errors = new List<string>();
            if (ValidationRules.IsUdp(existing.Protocol))
            {
                errors.Add($"connectionThrottle: connection throttling is not available for {UdpProtocols}; this load balancer is {existing.Protocol}");
            }

            var throttle = AccessControlValidator.ValidateThrottle(reader, existing.ConnectionThrottle, errors);
            if (throttle is null || errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            var next = existing with { ConnectionThrottle = throttle };
            return Change(next, next);
        }, cancellationToken);

    /// <summary>Removes the connection throttle (idempotent: 202 also when none is set).</summary>
    internal Task<Outcome<LoadBalancerConfig>> DeleteConnectionThrottleAsync(int accountId, int id, CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            var next = existing with { ConnectionThrottle = null };
            return Change(next, next);
        }, cancellationToken);

    /// <summary>Sets the custom error page (HTTP load balancers only, Rackspace).</summary>
    internal Task<Outcome<LoadBalancerConfig>> SetErrorPageAsync(int accountId, int id, FieldReader reader,
        CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            var errors = new List<string>();
            if (existing.Protocol != Protocols.Http)
            {
                errors.Add($"errorpage: a custom error page needs an HTTP load balancer; this load balancer is {existing.Protocol}");
            }

            var content = AccessControlValidator.ValidateErrorPage(reader, errors);
            if (content is null || errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            var next = existing with { ErrorPage = content };
            return Change(next, next);
        }, cancellationToken);

    /// <summary>Deletes the custom error page: the default page is used again (idempotent).</summary>
    internal Task<Outcome<LoadBalancerConfig>> DeleteErrorPageAsync(int accountId, int id, CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            var next = existing with { ErrorPage = null };
            return Change(next, next);
        }, cancellationToken);

    /// <summary>Turns connection logging on or off (not available on UDP-based load balancers).</summary>
    internal Task<Outcome<LoadBalancerConfig>> SetConnectionLoggingAsync(int accountId, int id, FieldReader reader,
        CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            reader.CheckFields(FieldSet.ConnectionLogging);
            var enabled = reader.Bool("enabled");
            var errors = new List<string>(reader.Issues.Messages);
            if (enabled is null && reader.Issues.Messages.Count == 0)
            {
                errors.Add("connectionLogging.enabled: required (true or false)");
            }

            if (enabled == true && ValidationRules.IsUdp(existing.Protocol))
            {
                errors.Add($"connectionLogging: connection logging is not available for {UdpProtocols}; this load balancer is {existing.Protocol}");
            }

            if (enabled is null || errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            var next = existing with { ConnectionLogging = enabled.Value };
            return Change(next, next);
        }, cancellationToken);
}

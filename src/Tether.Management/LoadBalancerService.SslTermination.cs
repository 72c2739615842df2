using Tether.Core.Model;
using Tether.Management.Api;
using Tether.Management.Requests;
using Tether.Management.Validation;

namespace Tether.Management;

public sealed partial class LoadBalancerService
{
    /// <summary>Configures or changes SSL termination; the listeners change with it (bind-first: a TLS port that
    /// cannot be bound is a 400 and nothing changes).</summary>
    internal Task<Outcome<LoadBalancerConfig>> SetSslTerminationAsync(int accountId, int id, SslTerminationRequest request,
        CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            var errors = new List<string>(request.Issues.Messages);
            var ssl = SslTerminationValidator.Validate(request, existing, Context(accountId), _time.GetUtcNow(), errors);
            if (ssl is null || errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            var next = existing with { SslTermination = ssl };
            return Change(next, next);
        }, cancellationToken);

    /// <summary>Removes SSL termination with its certificate mappings (as Rackspace, whose delete removes every
    /// mapping: openstack-atlas <c>DeleteSslTerminationListener</c>); 404 when none is configured.</summary>
    internal Task<Outcome<LoadBalancerConfig>> DeleteSslTerminationAsync(int accountId, int id, CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            if (existing.SslTermination is null)
            {
                return new ApiError(404, "SSL termination not found");
            }

            var next = existing with { SslTermination = null, HttpsRedirect = false };
            return Change(next, next);
        }, cancellationToken);
}

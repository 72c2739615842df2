using Tether.Core.Model;
using Tether.Management.Api;
using Tether.Management.Requests;
using Tether.Management.Storage;
using Tether.Management.Validation;

namespace Tether.Management;

public sealed partial class LoadBalancerService
{
    /// <summary>Adds a certificate mapping (POST <c>/ssltermination/certificatemappings</c>) and returns it. In
    /// Rackspace's order: the body (400), SSL termination configured (404), <see cref="Limits.CertificateMappingLimit"/>
    /// (413), a host name not mapped yet (422), the certificate and key (400).</summary>
    internal Task<Outcome<CertificateMappingConfig>> AddCertificateMappingAsync(int accountId, int id,
        CertificateMappingRequest request, CancellationToken cancellationToken) =>
        MutateAsync<CertificateMappingConfig>(accountId, id, existing =>
        {
            var errors = new List<string>(request.Issues.Messages);
            CertificateMappingValidator.CheckRequest(request, create: true, errors);
            if (errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            if (existing.SslTermination is not { } ssl)
            {
                return ApiError.SslTerminationNotFound;
            }

            if (ssl.CertificateMappings.Length >= Limits.CertificateMappingLimit)
            {
                return new ApiError(413, $"Certificate mapping limit reached: a load balancer may hold at most {Limits.CertificateMappingLimit} certificate mappings.");
            }

            if (CertificateMappingValidator.Duplicate(ssl.CertificateMappings, request.HostName!, 0) is { } duplicate)
            {
                return duplicate;
            }

            var mapping = CertificateMappingValidator.Merge(request, null, 0, _time.GetUtcNow(), errors);
            if (mapping is null || errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            mapping = mapping with { Id = _store.NextIds(Sequences.CertificateMapping) };
            var next = existing with { SslTermination = ssl with { CertificateMappings = ssl.CertificateMappings.Add(mapping) } };
            return Change(next, mapping);
        }, cancellationToken);

    /// <summary>Changes a certificate mapping (PUT <c>/certificatemappings/{mappingId}</c>): the fields given replace
    /// the stored ones and the result is checked as a whole.</summary>
    internal Task<Outcome<CertificateMappingConfig>> UpdateCertificateMappingAsync(int accountId, int id, int mappingId,
        CertificateMappingRequest request, CancellationToken cancellationToken) =>
        MutateAsync<CertificateMappingConfig>(accountId, id, existing =>
        {
            var errors = new List<string>(request.Issues.Messages);
            CertificateMappingValidator.CheckRequest(request, create: false, errors);
            if (errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            if (existing.SslTermination is not { } ssl)
            {
                return ApiError.SslTerminationNotFound;
            }

            var index = IndexOfMapping(ssl, mappingId);
            if (index < 0)
            {
                return ApiError.CertificateMappingNotFound;
            }

            if (request.HostName is { } host && CertificateMappingValidator.Duplicate(ssl.CertificateMappings, host, mappingId) is { } duplicate)
            {
                return duplicate;
            }

            var mapping = CertificateMappingValidator.Merge(request, ssl.CertificateMappings[index], mappingId, _time.GetUtcNow(), errors);
            if (mapping is null || errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            var next = existing with { SslTermination = ssl with { CertificateMappings = ssl.CertificateMappings.SetItem(index, mapping) } };
            return Change(next, mapping);
        }, cancellationToken);

    /// <summary>Deletes a certificate mapping: 404 when SSL termination or the mapping is not there.</summary>
    internal Task<Outcome<LoadBalancerConfig>> DeleteCertificateMappingAsync(int accountId, int id, int mappingId,
        CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            if (existing.SslTermination is not { } ssl)
            {
                return ApiError.SslTerminationNotFound;
            }

            var index = IndexOfMapping(ssl, mappingId);
            if (index < 0)
            {
                return ApiError.CertificateMappingNotFound;
            }

            var next = existing with { SslTermination = ssl with { CertificateMappings = ssl.CertificateMappings.RemoveAt(index) } };
            return Change(next, next);
        }, cancellationToken);

    private static int IndexOfMapping(SslTerminationConfig ssl, int mappingId)
    {
        for (var i = 0; i < ssl.CertificateMappings.Length; i++)
        {
            if (ssl.CertificateMappings[i].Id == mappingId)
            {
                return i;
            }
        }

        return -1;
    }
}

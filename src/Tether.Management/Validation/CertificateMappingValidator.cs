using Tether.Core.Model;
using Tether.Management.Api;
using Tether.Management.Requests;

namespace Tether.Management.Validation;

/// <summary>
/// Validates certificate mappings (Rackspace v1.0 <c>/ssltermination/certificatemappings</c>; the rules of Rackspace's
/// own implementation, openstack-atlas <c>CertificateMappingValidator</c> and <c>CertificateMappingServiceImpl</c>):
/// <list type="bullet">
/// <item><c>id</c> is never given (400); a POST gives <c>hostName</c>, <c>certificate</c> and <c>privateKey</c>, a PUT
/// at least one of <c>hostName</c>, <c>certificate</c>, <c>privateKey</c>, <c>intermediateCertificate</c> (400).</item>
/// <item><c>hostName</c>: at most 128 characters, dot-separated labels of letters, digits and hyphens (no hyphen
/// first or last); leading labels may be <c>*</c>, one label each (<c>*.example.com</c>, <c>*.*.example.com</c>);
/// Rackspace also takes a <c>*</c> label in the middle (<c>www.*.com</c>), which Tether refuses because no SNI
/// lookup it does could match it (400).</item>
/// <item><c>hostName</c> unique per load balancer, compared case-insensitively (DNS names are): 422 "Duplicate host
/// name detected", as Rackspace.</item>
/// <item>the certificate and key as SSL termination's: PEM, the key matching the certificate, valid now, the
/// intermediate chain PEM (<see cref="SslTerminationValidator.CheckCertificate"/>); on a PUT the merged mapping is
/// checked. An empty <c>intermediateCertificate</c> removes the chain (Rackspace).</item>
/// </list>
/// SSL termination must be configured (404) and a load balancer holds at most
/// <see cref="Limits.CertificateMappingLimit"/> mappings (413); the service checks those.
/// </summary>
internal static class CertificateMappingValidator
{
    /// <summary>Rackspace's <c>MAX_HOST_NAME_LENGTH</c>.</summary>
    public const int MaxHostNameLength = 128;

    /// <summary>The checks of the body alone (400): id, required fields, host name syntax.</summary>
    public static void CheckRequest(CertificateMappingRequest request, bool create, List<string> errors)
    {
        if (request.HasId)
        {
            errors.Add("id: cannot be given; a certificate mapping's id is set by Tether and never changes");
        }

        if (create)
        {
            if (request.HostName is null && !request.Issues.IsInvalid("hostName"))
            {
                errors.Add("hostName: required (the SNI host name the certificate is for, such as www.example.com or *.example.com)");
            }

            if (request.Certificate is null && !request.Issues.IsInvalid("certificate"))
            {
                errors.Add("certificate: required (PEM)");
            }

            if (request.PrivateKey is null && !request.Issues.IsInvalid("privateKey"))
            {
                errors.Add("privateKey: required (PEM)");
            }
        }
        else if (request is { HostName: null, Certificate: null, PrivateKey: null, IntermediateCertificate: null }
                 && request.Issues.Messages.Count == 0 && !request.HasId)
        {
            errors.Add("certificateMapping: give at least one of hostName, certificate, privateKey, intermediateCertificate");
        }

        if (request.HostName is { } host && HostNameProblem(host) is { } problem)
        {
            errors.Add($"hostName: {problem}");
        }
    }

    /// <summary>Null when <paramref name="host"/> is a valid mapping host name, else why not.</summary>
    internal static string? HostNameProblem(string host)
    {
        if (host.Length == 0)
        {
            return "must not be empty";
        }

        if (host.Length > MaxHostNameLength)
        {
            return $"must be at most {MaxHostNameLength} characters (got {host.Length})";
        }

        var labels = host.Split('.');
        var leading = true;
        for (var i = 0; i < labels.Length; i++)
        {
            var label = labels[i];
            if (label == "*")
            {
                if (i == labels.Length - 1)
                {
                    return $"'{host}' is not a valid host name: a wildcard stands for the leftmost labels only (*.example.com), never the last";
                }

                if (!leading)
                {
                    return $"'{host}' is not a valid host name: a * label is allowed only at the start (*.example.com, *.*.example.com)";
                }

                continue;
            }

            leading = false;
            if (!IsLabel(label))
            {
                return $"'{host}' is not a valid host name (dot-separated labels of letters, digits and hyphens, no hyphen first or last; leading labels may be *)";
            }
        }

        return null;
    }

    private static bool IsLabel(string label)
    {
        if (label.Length == 0 || label[0] == '-' || label[^1] == '-')
        {
            return false;
        }

        foreach (var c in label)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The mapping of another id that already has <paramref name="host"/> (case-insensitive), as the 422 to
    /// answer, or null.</summary>
    public static ApiError? Duplicate(IEnumerable<CertificateMappingConfig> mappings, string host, int ownId)
    {
        foreach (var m in mappings)
        {
            if (m.Id != ownId && string.Equals(m.HostName.TrimEnd('.'), host.TrimEnd('.'), StringComparison.OrdinalIgnoreCase))
            {
                return new ApiError(422,
                    $"Duplicate host name detected. Certificate mapping with id '{m.Id}' has already configured the host name provided.");
            }
        }

        return null;
    }

    /// <summary>The mapping a request makes of <paramref name="current"/> (null for a POST), with its certificate
    /// checked; null with <paramref name="errors"/> filled when the certificate is not usable.</summary>
    public static CertificateMappingConfig? Merge(CertificateMappingRequest request, CertificateMappingConfig? current, int id,
        DateTimeOffset now, List<string> errors)
    {
        var certificate = request.Certificate ?? current?.Certificate;
        var privateKey = request.PrivateKey ?? current?.PrivateKey;
        var intermediate = request.IntermediateCertificate is { } given
            ? (string.IsNullOrWhiteSpace(given) ? null : given)
            : current?.IntermediateCertificate;
        var host = request.HostName ?? current?.HostName;
        if (certificate is null || privateKey is null || host is null)
        {
            return null;
        }

        SslTerminationValidator.CheckCertificate(certificate, privateKey, intermediate, now, errors);
        if (errors.Count > 0)
        {
            return null;
        }

        return new CertificateMappingConfig
        {
            Id = id,
            HostName = host,
            Certificate = certificate,
            PrivateKey = privateKey,
            IntermediateCertificate = intermediate,
        };
    }
}

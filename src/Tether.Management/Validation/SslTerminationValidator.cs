using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tether.Core.Model;
using Tether.Management.Requests;

namespace Tether.Management.Validation;

/// <summary>
/// Validates SSL termination (Rackspace v1.0 <c>/ssltermination</c>; issue 5): HTTP load balancers only (HTTPS
/// pass-through terminates on the nodes); certificate and private key in PEM, the key matching the certificate, the
/// certificate valid now (not expired, not yet valid is refused too); intermediates in PEM; <c>securePort</c> 1..65535,
/// not the load balancer's port and not used by another listener on the virtual IP. A PUT on an existing configuration
/// may change only some fields; the certificate and key are then kept unless both are given again.
/// </summary>
internal static class SslTerminationValidator
{
    public static SslTerminationConfig? Validate(SslTerminationRequest request, LoadBalancerConfig existing,
        ValidationContext context, DateTimeOffset now, List<string> errors)
    {
        if (existing.Protocol != Protocols.Http)
        {
            errors.Add($"sslTermination: is only for HTTP load balancers (this one is {existing.Protocol}); an HTTPS load balancer passes TLS through to its nodes");
            return null;
        }

        var current = existing.SslTermination;
        var certificate = request.Certificate ?? current?.Certificate;
        var privateKey = request.PrivateKey ?? current?.PrivateKey;
        var intermediate = request.IntermediateCertificate ?? current?.IntermediateCertificate;
        var securePort = request.SecurePort ?? current?.SecurePort;
        if ((request.Certificate is null) != (request.PrivateKey is null) && current is not null)
        {
            errors.Add("certificate, privateKey: give both to replace the certificate");
        }

        if (certificate is null)
        {
            errors.Add("certificate: required (PEM)");
        }

        if (privateKey is null)
        {
            errors.Add("privateKey: required (PEM)");
        }

        if (securePort is null)
        {
            errors.Add("securePort: required (1 to 65535)");
        }
        else if (securePort is < 1 or > 65535)
        {
            errors.Add($"securePort: must be from 1 to 65535 (got {securePort})");
        }
        else if (securePort == existing.Port)
        {
            errors.Add($"securePort: must differ from the load balancer's port {existing.Port}");
        }
        else
        {
            foreach (var vip in existing.VirtualIps)
            {
                if (ValidationRules.FindListenerConflict(context.All, existing.Id, vip.Address, securePort.Value, Protocols.Http) is { } other)
                {
                    errors.Add($"securePort: {vip.Address}:{securePort} is already used by load balancer {other.Id}");
                }
            }
        }

        if (certificate is not null && privateKey is not null)
        {
            CheckCertificate(certificate, privateKey, intermediate, now, errors);
        }

        if (errors.Count > 0)
        {
            return null;
        }

        return new SslTerminationConfig
        {
            Certificate = certificate!,
            PrivateKey = privateKey!,
            IntermediateCertificate = intermediate,
            SecurePort = securePort!.Value,
            Enabled = request.Enabled ?? current?.Enabled ?? true,
            SecureTrafficOnly = request.SecureTrafficOnly ?? current?.SecureTrafficOnly ?? false,
            // A PUT on /ssltermination keeps the certificate mappings; only deleting SSL termination removes them.
            CertificateMappings = current?.CertificateMappings ?? [],
        };
    }

    /// <summary>Loads the certificate with its key (throws when the key does not match), checks its validity period
    /// and parses the intermediates.</summary>
    internal static void CheckCertificate(string certificate, string privateKey, string? intermediate, DateTimeOffset now, List<string> errors)
    {
        try
        {
            using var cert = X509Certificate2.CreateFromPem(certificate, privateKey);
            if (!cert.HasPrivateKey)
            {
                errors.Add("privateKey: does not match the certificate");
            }
            else if (cert.NotAfter.ToUniversalTime() < now.UtcDateTime)
            {
                errors.Add($"certificate: expired on {cert.NotAfter.ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ}");
            }
            else if (cert.NotBefore.ToUniversalTime() > now.UtcDateTime)
            {
                errors.Add($"certificate: not valid before {cert.NotBefore.ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ}");
            }
        }
        catch (CryptographicException e)
        {
            errors.Add($"certificate, privateKey: cannot be loaded as a PEM certificate with its matching private key ({e.Message.TrimEnd('.')})");
        }
        catch (ArgumentException e)
        {
            errors.Add($"certificate, privateKey: not valid PEM ({e.Message.TrimEnd('.')})");
        }

        if (!string.IsNullOrWhiteSpace(intermediate))
        {
            try
            {
                var chain = new X509Certificate2Collection();
                chain.ImportFromPem(intermediate);
                if (chain.Count == 0)
                {
                    errors.Add("intermediateCertificate: holds no PEM certificate");
                }

                foreach (var c in chain)
                {
                    c.Dispose();
                }
            }
            catch (CryptographicException e)
            {
                errors.Add($"intermediateCertificate: not valid PEM ({e.Message.TrimEnd('.')})");
            }
        }
    }
}

using System.Collections.Immutable;

namespace Tether.Core.Model;

/// <summary>
/// SSL termination of an HTTP load balancer (Rackspace v1.0 <c>/ssltermination</c>; seed 000: one HTTP load balancer
/// with SSL termination serves HTTP and HTTPS clients with one session persistence). Tether listens with TLS on
/// <see cref="SecurePort"/> and, unless <see cref="SecureTrafficOnly"/>, plain HTTP on the load balancer's port; both
/// feed the same pipeline.
/// </summary>
public sealed record SslTerminationConfig
{
    /// <summary>The server certificate, PEM.</summary>
    public required string Certificate { get; init; }

    /// <summary>The certificate's private key, PEM (never returned by the API).</summary>
    public required string PrivateKey { get; init; }

    /// <summary>Intermediate certificates sent with the server certificate, PEM (optional).</summary>
    public string? IntermediateCertificate { get; init; }

    /// <summary>The TLS port, 1 to 65535, different from the load balancer's port.</summary>
    public required int SecurePort { get; init; }

    /// <summary>Whether TLS is served (default true).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>When true, only TLS is served: no plain HTTP listener (unless the load balancer's httpsRedirect
    /// asks for one that only redirects).</summary>
    public bool SecureTrafficOnly { get; init; }

    /// <summary>Certificates chosen by the client's SNI host name (Rackspace certificate mappings), in the order they
    /// were added; empty when none. Removed with the SSL termination.</summary>
    public ImmutableArray<CertificateMappingConfig> CertificateMappings { get; init; } = [];
}

namespace Tether.Core.Model;

/// <summary>
/// One certificate mapping of SSL termination (Rackspace v1.0 <c>/ssltermination/certificatemappings</c>): the
/// certificate the TLS listener presents to a client whose SNI host name matches <see cref="HostName"/>. A name that
/// matches no mapping (or no SNI at all) gets the SSL termination's own certificate.
/// </summary>
public sealed record CertificateMappingConfig
{
    /// <summary>The mapping's id (unique across accounts, never reused).</summary>
    public required int Id { get; init; }

    /// <summary>The host name, as given (matched case-insensitively). Leading labels may be <c>*</c>, each standing
    /// for exactly one label (<c>*.example.com</c> matches <c>www.example.com</c>, not <c>example.com</c> nor
    /// <c>a.b.example.com</c>).</summary>
    public required string HostName { get; init; }

    /// <summary>The certificate, PEM.</summary>
    public required string Certificate { get; init; }

    /// <summary>The certificate's private key, PEM (never returned by the API, never logged or audited).</summary>
    public required string PrivateKey { get; init; }

    /// <summary>Intermediate certificates sent with the certificate, PEM (optional).</summary>
    public string? IntermediateCertificate { get; init; }
}

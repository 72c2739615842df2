using Tether.Management.Api;

namespace Tether.Management.Requests;

/// <summary>An SSL termination object as a PUT <c>/ssltermination</c> body gives it, before validation. Null means
/// absent (a PUT may change only <c>enabled</c> or <c>secureTrafficOnly</c> of an existing configuration).</summary>
internal sealed class SslTerminationRequest
{
    public required ReadIssues Issues { get; init; }
    public string? Certificate { get; init; }
    public string? PrivateKey { get; init; }
    public string? IntermediateCertificate { get; init; }
    public int? SecurePort { get; init; }
    public bool? Enabled { get; init; }
    public bool? SecureTrafficOnly { get; init; }

    /// <summary>Reads the body, reporting fields outside <see cref="FieldSet.SslTermination"/>. The private key is
    /// read from <c>privateKey</c> or from <c>privatekey</c> (Rackspace's spelling, sent by pkgcloud, fog and pyrax).</summary>
    public static SslTerminationRequest Read(FieldReader reader)
    {
        reader.CheckFields(FieldSet.SslTermination);
        return new()
        {
            Issues = reader.Issues,
            Certificate = reader.String("certificate"),
            PrivateKey = reader.String("privateKey") ?? reader.String("privatekey"),
            IntermediateCertificate = reader.String("intermediateCertificate"),
            SecurePort = reader.Int("securePort"),
            Enabled = reader.Bool("enabled"),
            SecureTrafficOnly = reader.Bool("secureTrafficOnly"),
        };
    }
}

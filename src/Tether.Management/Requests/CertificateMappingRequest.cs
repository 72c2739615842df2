using Tether.Management.Api;

namespace Tether.Management.Requests;

/// <summary>A certificate mapping as a POST or PUT <c>/ssltermination/certificatemappings</c> body gives it, before
/// validation. Null means absent (a PUT may change only some fields).</summary>
internal sealed class CertificateMappingRequest
{
    public required ReadIssues Issues { get; init; }
    public string? HostName { get; init; }
    public string? Certificate { get; init; }
    public string? PrivateKey { get; init; }
    public string? IntermediateCertificate { get; init; }

    /// <summary>True when the body gave <c>id</c> (refused: the id is in the path and never changes).</summary>
    public bool HasId { get; init; }

    /// <summary>Reads the body, reporting fields outside <see cref="FieldSet.CertificateMapping"/>.</summary>
    public static CertificateMappingRequest Read(FieldReader reader)
    {
        reader.CheckFields(FieldSet.CertificateMapping);
        return new()
        {
            Issues = reader.Issues,
            HasId = reader.Has("id"),
            HostName = reader.String("hostName"),
            Certificate = reader.String("certificate"),
            PrivateKey = reader.String("privateKey"),
            IntermediateCertificate = reader.String("intermediateCertificate"),
        };
    }
}

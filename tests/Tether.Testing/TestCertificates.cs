using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tether.Testing;

/// <summary>Self-signed certificates made in the test, as PEM.</summary>
public static class TestCertificates
{
    public static (string Certificate, string PrivateKey) Create(DateTimeOffset notBefore, DateTimeOffset notAfter, string subject = "CN=tether.test")
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = request.CreateSelfSigned(notBefore, notAfter);
        return (cert.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    public static (string Certificate, string PrivateKey) ValidAt(DateTimeOffset now, string subject = "CN=tether.test") =>
        Create(now.AddDays(-1), now.AddYears(1), subject);
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tether.Core.Model;
using Tether.Proxy.Tls;

namespace Tether.Proxy.Tests.Tls;

/// <summary>How the TLS listener picks a certificate by SNI host name (issue 12, item 4): exact name first
/// (case-insensitive), then wildcards with the fewest <c>*</c> labels, each standing for one label; the load
/// balancer's own certificate otherwise.</summary>
public sealed class CertificateHolderTests
{
    private static readonly (string Certificate, string Key) Own = Pem("CN=own");

    private static (string Certificate, string Key) Pem(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return (cert.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    private static SslTerminationConfig Config(params string[] hostNames) => new()
    {
        Certificate = Own.Certificate,
        PrivateKey = Own.Key,
        SecurePort = 8443,
        CertificateMappings = [.. hostNames.Select((h, i) =>
        {
            var (cert, key) = Pem("CN=" + h.Replace("*", "star", StringComparison.Ordinal));
            return new CertificateMappingConfig { Id = i + 1, HostName = h, Certificate = cert, PrivateKey = key };
        })],
    };

    private static string Picked(CertificateHolder holder, string? serverName) => holder.Select(serverName).TargetCertificate.Subject;

    [Theory]
    [InlineData(null, "CN=own")]
    [InlineData("", "CN=own")]
    [InlineData("one.example.test", "CN=one.example.test")]
    [InlineData("ONE.Example.TEST", "CN=one.example.test")]
    [InlineData("one.example.test.", "CN=one.example.test")]
    [InlineData("two.example.test", "CN=star.example.test")]
    [InlineData("example.test", "CN=own")]
    [InlineData("a.two.example.test", "CN=star.star.example.test")]
    [InlineData("a.b.c.example.test", "CN=own")]
    [InlineData("unknown.test", "CN=own")]
    [InlineData("x.other.test", "CN=star.other.test")]
    public void Select_BySniHostName_MostSpecificFirstElseOwnCertificate(string? serverName, string subject)
    {
        var holder = new CertificateHolder();
        holder.Update(Config("one.example.test", "*.example.test", "*.*.example.test", "*.other.test"));

        Assert.Equal(subject, Picked(holder, serverName));
    }

    [Fact]
    public void Select_ExactNameAndWildcardBothMatch_ExactWins()
    {
        var holder = new CertificateHolder();
        holder.Update(Config("*.example.test", "www.example.test"));

        Assert.Equal("CN=www.example.test", Picked(holder, "www.example.test"));
        Assert.Equal("CN=star.example.test", Picked(holder, "api.example.test"));
    }

    [Fact]
    public void Update_MappingRemoved_FallsBackAndUnchangedContextsAreReused()
    {
        var holder = new CertificateHolder();
        var config = Config("one.example.test", "two.example.test");
        holder.Update(config);
        var own = holder.Context;
        var two = holder.Select("two.example.test");

        holder.Update(config with { CertificateMappings = [config.CertificateMappings[1]] });

        Assert.Equal("CN=own", Picked(holder, "one.example.test"));
        Assert.Same(two, holder.Select("two.example.test"));
        Assert.Same(own, holder.Context);
    }

    [Fact]
    public void Select_PerHandshake_AllocatesNothing()
    {
        var holder = new CertificateHolder();
        holder.Update(Config("one.example.test", "*.example.test", "*.*.example.test"));
        string[] names = ["one.example.test", "ONE.example.test.", "x.example.test", "a.b.example.test", "none.test", ""];
        foreach (var name in names)
        {
            holder.Select(name);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            holder.Select(names[i % names.Length]);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Select_BeforeAnyUpdate_Throws() =>
        Assert.Throws<InvalidOperationException>(() => new CertificateHolder().Select("a.test"));
}

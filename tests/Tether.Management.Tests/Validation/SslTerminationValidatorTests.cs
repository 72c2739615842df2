using System.Text.Json;
using Tether.Core.Model;
using Tether.Management.Requests;
using Tether.Management.Validation;
using static Tether.Management.Tests.Validation.ValidationKit;

namespace Tether.Management.Tests.Validation;

/// <summary>The SSL termination and certificate mapping rules (SslTerminationValidator, CertificateMappingValidator;
/// Rackspace v1.0 <c>/ssltermination</c>).</summary>
public sealed class SslTerminationValidatorTests
{
    private static readonly (string Certificate, string PrivateKey) Valid = TestCertificates.ValidAt(T0);

    [Fact]
    public void Validate_CertificateKeyAndPort_GivesTheConfiguration()
    {
        var errors = new List<string>();
        var existing = Existing();

        var config = SslTerminationValidator.Validate(Ssl(443), existing, Context(existing), T0, errors);

        Assert.Empty(errors);
        Assert.Equal(443, config!.SecurePort);
    }

    [Fact]
    public void Validate_OnAnHttpsLoadBalancer_IsRefused()
    {
        var errors = new List<string>();
        var existing = Existing(protocol: Protocols.Https, port: 443);

        Assert.Null(SslTerminationValidator.Validate(Ssl(8443), existing, Context(existing), T0, errors));
        Assert.Contains(errors, e => e.StartsWith("sslTermination: is only for HTTP load balancers", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_SecurePortIsTheLoadBalancersPort_IsRefused()
    {
        var errors = new List<string>();
        var existing = Existing(port: 80);

        Assert.Null(SslTerminationValidator.Validate(Ssl(80), existing, Context(existing), T0, errors));
        Assert.Contains(errors, e => e.StartsWith("securePort: must differ from the load balancer's port 80", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ExpiredCertificate_IsRefused()
    {
        var errors = new List<string>();
        var existing = Existing();

        Assert.Null(SslTerminationValidator.Validate(Ssl(443), existing, Context(existing), T0.AddYears(2), errors));
        Assert.Contains(errors, e => e.StartsWith("certificate: expired on", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_KeyOfAnotherCertificate_IsRefused()
    {
        var errors = new List<string>();
        var existing = Existing();
        var other = TestCertificates.ValidAt(T0);

        Assert.Null(SslTerminationValidator.Validate(Ssl(443, privateKey: other.PrivateKey), existing, Context(existing), T0, errors));
        Assert.Contains(errors, e => e.StartsWith("certificate, privateKey: cannot be loaded", StringComparison.Ordinal) || e == "privateKey: does not match the certificate");
    }

    [Fact]
    public void Validate_NoCertificateNoKeyNoPort_CollectsEachError()
    {
        var errors = new List<string>();
        var existing = Existing();

        Assert.Null(SslTerminationValidator.Validate(SslTerminationRequest.Read(Reader("{}")), existing, Context(existing), T0, errors));
        Assert.Contains("certificate: required (PEM)", errors);
        Assert.Contains("privateKey: required (PEM)", errors);
        Assert.Contains("securePort: required (1 to 65535)", errors);
    }

    [Theory]
    [InlineData("www.example.com")]
    [InlineData("*.example.com")]
    [InlineData("*.*.example.com")]
    public void HostNameProblem_ValidName_IsNull(string host) => Assert.Null(CertificateMappingValidator.HostNameProblem(host));

    [Theory]
    [InlineData("")]
    [InlineData("www.*.com")]
    [InlineData("example.*")]
    [InlineData("-a.example.com")]
    [InlineData("a_b.example.com")]
    public void HostNameProblem_InvalidName_IsNamed(string host) => Assert.NotNull(CertificateMappingValidator.HostNameProblem(host));

    [Fact]
    public void HostNameProblem_129Characters_IsTooLong() =>
        Assert.StartsWith("must be at most 128 characters", CertificateMappingValidator.HostNameProblem(new string('a', 60) + "." + new string('b', 60) + ".example"));

    [Fact]
    public void CheckRequest_CreateWithIdAndNoFields_CollectsEachError()
    {
        var errors = new List<string>();

        CertificateMappingValidator.CheckRequest(CertificateMappingRequest.Read(Reader("""{"id":3}""")), create: true, errors);

        Assert.Contains(errors, e => e.StartsWith("id: cannot be given", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("hostName: required", StringComparison.Ordinal));
        Assert.Contains("certificate: required (PEM)", errors);
        Assert.Contains("privateKey: required (PEM)", errors);
    }

    [Fact]
    public void Duplicate_SameHostOtherCase_Is422()
    {
        var mapping = new CertificateMappingConfig { Id = 1, HostName = "www.example.com", Certificate = Valid.Certificate, PrivateKey = Valid.PrivateKey };

        Assert.Equal(422, CertificateMappingValidator.Duplicate([mapping], "WWW.example.com", ownId: 2)?.Code);
        Assert.Null(CertificateMappingValidator.Duplicate([mapping], "WWW.example.com", ownId: 1));
    }

    private static SslTerminationRequest Ssl(int securePort, string? privateKey = null) =>
        SslTerminationRequest.Read(Reader(JsonSerializer.Serialize(new
        {
            certificate = Valid.Certificate,
            privateKey = privateKey ?? Valid.PrivateKey,
            securePort,
            enabled = true,
        })));
}

using Tether.Core.Model;
using Tether.Management.Validation;
using static Tether.Management.Tests.Validation.ValidationKit;

namespace Tether.Management.Tests.Validation;

/// <summary>The session persistence rules (SessionPersistenceValidator; docs/session-persistence.md).</summary>
public sealed class SessionPersistenceValidatorTests
{
    [Theory]
    [InlineData("""{"persistenceType":"HTTP_COOKIE"}""", "HTTP", PersistenceType.HttpCookie)]
    [InlineData("""{"persistenceType":"APP_COOKIE","cookieName":"JSESSIONID"}""", "HTTP", PersistenceType.AppCookie)]
    [InlineData("""{"persistenceType":"APP_COOKIE","cookieName":"*"}""", "HTTP", PersistenceType.AppCookie)]
    [InlineData("""{"persistenceType":"SOURCE_IP"}""", "TCP", PersistenceType.SourceIp)]
    [InlineData("""{"persistenceType":"SOURCE_IP","persistenceTimeout":3600}""", "UDP", PersistenceType.SourceIp)]
    public void Validate_ValidBody_GivesTheConfiguration(string json, string protocol, PersistenceType type)
    {
        var errors = new List<string>();

        var config = SessionPersistenceValidator.Validate(Persistence(json), protocol, errors);

        Assert.Empty(errors);
        Assert.Equal(type, config!.Type);
    }

    [Theory]
    [InlineData("{}", "persistenceType: is required")]
    [InlineData("""{"persistenceType":"STICKY"}""", "persistenceType: must be one of")]
    [InlineData("""{"persistenceType":"HTTP_COOKIE"}""", "persistenceType: HTTP_COOKIE is supported on HTTP load balancers only", "TCP")]
    [InlineData("""{"persistenceType":"APP_COOKIE"}""", "cookieName: is required for APP_COOKIE")]
    [InlineData("""{"persistenceType":"APP_COOKIE","cookieName":"a b"}""", "cookieName: must be a cookie name token")]
    [InlineData("""{"persistenceType":"SOURCE_IP","cookieName":"x"}""", "cookieName: is not allowed for SOURCE_IP")]
    [InlineData("""{"persistenceType":"SOURCE_IP","persistenceTimeout":59}""", "persistenceTimeout: must be from 60 to 86400")]
    [InlineData("""{"persistenceType":"SOURCE_IP","persistenceTimeout":3601}""", "persistenceTimeout: must be from 60 to 3600", "TCP")]
    [InlineData("""{"persistenceType":"SOURCE_IP","cookiePath":"/"}""", "cookiePath: is allowed only for HTTP_COOKIE")]
    [InlineData("""{"persistenceType":"HTTP_COOKIE","cookiePath":"a"}""", "cookiePath: must start with '/'")]
    [InlineData("""{"persistenceType":"HTTP_COOKIE","cookieDomain":"a b"}""", "cookieDomain: must be a host name")]
    [InlineData("""{"persistenceType":"HTTP_COOKIE","cookieSameSite":"Loose"}""", "cookieSameSite: must be Lax, Strict or None")]
    [InlineData("""{"persistenceType":"HTTP_COOKIE","cookieSameSite":"None"}""", "cookieSameSite: None requires cookieSecure: true")]
    public void Validate_RuleBroken_IsRefusedWithTheFieldAndReason(string json, string expected, string protocol = "HTTP")
    {
        var errors = new List<string>();

        var config = SessionPersistenceValidator.Validate(Persistence(json), protocol, errors);

        Assert.Null(config);
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_SameSiteAnyCase_IsStoredInItsCanonicalSpelling()
    {
        var errors = new List<string>();

        var config = SessionPersistenceValidator.Validate(
            Persistence("""{"persistenceType":"HTTP_COOKIE","cookieSameSite":"none","cookieSecure":true}"""), "HTTP", errors);

        Assert.Empty(errors);
        Assert.Equal("None", config!.CookieSameSite);
    }

    [Fact]
    public void Validate_UnknownProtocol_SkipsTheProtocolRules()
    {
        var errors = new List<string>();

        var config = SessionPersistenceValidator.Validate(Persistence("""{"persistenceType":"HTTP_COOKIE","persistenceTimeout":86400}"""), null, errors);

        Assert.Empty(errors);
        Assert.NotNull(config);
    }
}

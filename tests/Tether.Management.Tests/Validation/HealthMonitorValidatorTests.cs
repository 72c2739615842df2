using Tether.Core.Model;
using Tether.Management.Validation;
using static Tether.Management.Tests.Validation.ValidationKit;

namespace Tether.Management.Tests.Validation;

/// <summary>The health monitor rules (HealthMonitorValidator; Rackspace <c>/healthmonitor</c>).</summary>
public sealed class HealthMonitorValidatorTests
{
    private const string Connect = "\"type\":\"CONNECT\",\"delay\":10,\"timeout\":5,\"attemptsBeforeDeactivation\":2";
    private const string Http = "\"type\":\"HTTP\",\"delay\":10,\"timeout\":5,\"attemptsBeforeDeactivation\":2,\"path\":\"/health\"";

    [Fact]
    public void Validate_ConnectOnTcp_GivesTheConfiguration()
    {
        var errors = new List<string>();

        var config = HealthMonitorValidator.Validate(Monitor("{" + Connect + "}"), "TCP", errors);

        Assert.Empty(errors);
        Assert.Equal(HealthMonitorType.Connect, config!.Type);
        Assert.Equal((10, 5, 2), (config.DelaySeconds, config.TimeoutSeconds, config.AttemptsBeforeDeactivation));
    }

    [Fact]
    public void Validate_HttpOnHttp_KeepsPathAndRegexes()
    {
        var errors = new List<string>();

        var config = HealthMonitorValidator.Validate(Monitor("{" + Http + ",\"statusRegex\":\"^2\",\"hostHeader\":\"a.example:8080\"}"), "HTTP", errors);

        Assert.Empty(errors);
        Assert.Equal(("/health", "^2", "a.example:8080"), (config!.Path, config.StatusRegex, config.HostHeader));
    }

    [Theory]
    [InlineData("{}", "type: is required")]
    [InlineData("""{"type":"PING","delay":10,"timeout":5,"attemptsBeforeDeactivation":2}""", "type: must be one of")]
    [InlineData("""{"type":"CONNECT","delay":0,"timeout":5,"attemptsBeforeDeactivation":2}""", "delay: ")]
    [InlineData("""{"type":"CONNECT","delay":3601,"timeout":5,"attemptsBeforeDeactivation":2}""", "delay: ")]
    [InlineData("""{"type":"CONNECT","delay":10,"timeout":301,"attemptsBeforeDeactivation":2}""", "timeout: ")]
    [InlineData("""{"type":"CONNECT","delay":10,"timeout":5,"attemptsBeforeDeactivation":11}""", "attemptsBeforeDeactivation: ")]
    [InlineData("""{"type":"CONNECT","delay":10,"timeout":5}""", "attemptsBeforeDeactivation: ")]
    [InlineData("""{"type":"CONNECT","delay":10,"timeout":5,"attemptsBeforeDeactivation":2,"path":"/"}""", "path: is allowed only for HTTP and HTTPS monitors")]
    [InlineData("""{"type":"HTTP","delay":10,"timeout":5,"attemptsBeforeDeactivation":2}""", "path: ")]
    [InlineData("""{"type":"HTTP","delay":10,"timeout":5,"attemptsBeforeDeactivation":2,"path":"health"}""", "path: ")]
    [InlineData("""{"type":"HTTP","delay":10,"timeout":5,"attemptsBeforeDeactivation":2,"path":"/","statusRegex":"("}""", "statusRegex: ")]
    public void Validate_RuleBroken_IsRefusedWithTheField(string json, string expected)
    {
        var errors = new List<string>();

        var config = HealthMonitorValidator.Validate(Monitor(json), "HTTP", errors);

        Assert.Null(config);
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("UDP", "CONNECT")]
    [InlineData("DNS_UDP", "CONNECT")]
    [InlineData("HTTPS", "HTTP")]
    [InlineData("TCP", "HTTP")]
    [InlineData("HTTP", "HTTPS")]
    public void ProtocolProblem_MonitorDoesNotFitTheProtocol_IsNamed(string protocol, string type)
    {
        Assert.True(HealthMonitorTypeNames.TryParse(type, out var parsed));

        Assert.NotNull(HealthMonitorValidator.ProtocolProblem(parsed, protocol));
    }

    [Theory]
    [InlineData("TCP", "CONNECT")]
    [InlineData("HTTP", "CONNECT")]
    [InlineData("HTTP", "HTTP")]
    [InlineData("HTTPS", "HTTPS")]
    public void ProtocolProblem_MonitorFits_IsNull(string protocol, string type)
    {
        Assert.True(HealthMonitorTypeNames.TryParse(type, out var parsed));

        Assert.Null(HealthMonitorValidator.ProtocolProblem(parsed, protocol));
    }
}

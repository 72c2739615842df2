using System.Text.Json;
using Tether.Core.Model;
using Tether.Management.Validation;
using static Tether.Management.Tests.Validation.ValidationKit;

namespace Tether.Management.Tests.Validation;

/// <summary>The access list, connection throttle and error page rules (AccessControlValidator; issue 6).</summary>
public sealed class AccessControlValidatorTests
{
    [Fact]
    public void ValidateNewItems_WrappedList_GivesTheItems()
    {
        var errors = new List<string>();

        var items = AccessControlValidator.ValidateNewItems(
            Json("""{"accessList":[{"address":"10.0.0.0/8","type":"DENY"},{"address":"10.1.2.3","type":"ALLOW"}]}"""), [], errors);

        Assert.Empty(errors);
        Assert.Equal(2, items!.Count);
    }

    [Theory]
    [InlineData("""{"accessList":[]}""", "accessList: give at least one network item")]
    [InlineData("""{"items":[]}""", "accessList: give the network items as")]
    [InlineData("""[{"type":"DENY"}]""", "accessList[0].address: required")]
    [InlineData("""[{"address":"10.0.0.0/33","type":"DENY"}]""", "accessList[0].address: ")]
    [InlineData("""[{"address":"10.0.0.1","type":"BLOCK"}]""", "accessList[0].type: must be ALLOW or DENY")]
    [InlineData("""[{"address":"10.0.0.1","type":"DENY"},{"address":"10.0.0.1","type":"ALLOW"}]""", "accessList[1].address: 10.0.0.1")]
    public void ValidateNewItems_RuleBroken_IsRefused(string json, string expected)
    {
        var errors = new List<string>();

        Assert.Null(AccessControlValidator.ValidateNewItems(Json(json), [], errors));
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateThrottle_OneField_KeepsTheOthers()
    {
        var errors = new List<string>();
        var current = new ConnectionThrottleConfig { MaxConnections = 50, RateInterval = 60 };

        var throttle = AccessControlValidator.ValidateThrottle(Reader("""{"maxConnections":100}""", "connectionThrottle"), current, errors);

        Assert.Empty(errors);
        Assert.Equal((100, (int?)60), (throttle!.MaxConnections, throttle.RateInterval));
    }

    [Theory]
    [InlineData("{}", "connectionThrottle: give at least one of")]
    [InlineData("""{"maxConnections":100001}""", "maxConnections: must be from 0 to 100000")]
    [InlineData("""{"rateInterval":0}""", "rateInterval: must be from 1 to 3600")]
    public void ValidateThrottle_RuleBroken_IsRefused(string json, string expected)
    {
        var errors = new List<string>();

        Assert.Null(AccessControlValidator.ValidateThrottle(Reader(json, "connectionThrottle"), null, errors));
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateErrorPage_Content_IsKept()
    {
        var errors = new List<string>();

        Assert.Equal("<p>down</p>", AccessControlValidator.ValidateErrorPage(Reader("""{"content":"<p>down</p>"}""", "errorpage"), errors));
        Assert.Empty(errors);
    }

    [Fact]
    public void ValidateErrorPage_TooLong_IsRefused()
    {
        var errors = new List<string>();
        var json = JsonSerializer.Serialize(new { content = new string('x', ErrorPages.MaxLength + 1) });

        Assert.Null(AccessControlValidator.ValidateErrorPage(Reader(json, "errorpage"), errors));
        Assert.Contains(errors, e => e.StartsWith($"errorpage.content: at most {ErrorPages.MaxLength} characters", StringComparison.Ordinal));
    }

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();
}

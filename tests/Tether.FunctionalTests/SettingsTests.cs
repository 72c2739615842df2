using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Tether.Proxy;

namespace Tether.FunctionalTests;

/// <summary><c>tether serve</c>'s settings as an operator gives them: a JSON file, <c>TETHER_</c> variables, flags.</summary>
public sealed class SettingsTests
{
    [Fact]
    public async Task LoadSettings_JsonFileWithTokensAndProxyOptions_AreUsedByTheHost()
    {
        var directory = Path.Combine(Path.GetTempPath(), "tether-settings-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, "tether.json");
        await File.WriteAllTextAsync(file, $$"""
            {
              "DataDirectory": "{{Path.Combine(directory, "data").Replace("\\", "/", StringComparison.Ordinal)}}",
              "Management": { "Url": "http://127.0.0.1:0", "Tokens": [ { "Token": "configured-token-for-account-7", "AccountId": 7 } ] },
              "Proxy": { "PassiveFailureHoldSeconds": 3 }
            }
            """);

        var settings = TetherHost.LoadSettings(file, new Dictionary<string, string?>());
        await using var app = TetherHost.Build(settings);
        await TetherHost.StartAsync(app);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var api = new HttpClient { BaseAddress = new Uri(address.TrimEnd('/') + "/v1.0/7/") };
        api.DefaultRequestHeaders.Add("X-Auth-Token", "configured-token-for-account-7");

        using var response = await api.GetAsync("loadbalancers");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, app.Services.GetRequiredService<ProxyOptions>().PassiveFailureHoldSeconds);
        Assert.False(File.Exists(Path.Combine(directory, "data", "admin-token")), "a configured token means no admin token file");
        await app.StopAsync();
    }

    [Fact]
    public void LoadSettings_FlagOverridesFileAndInvalidUrlIsRefused()
    {
        var settings = TetherHost.LoadSettings(null, new Dictionary<string, string?> { ["DataDirectory"] = "/tmp/x", ["Management:Url"] = "http://127.0.0.1:18099" });

        Assert.Equal("/tmp/x", settings.DataDirectory);
        Assert.Equal("http://127.0.0.1:18099", settings.ManagementUrl);
        Assert.Throws<ArgumentException>(() => TetherHost.LoadSettings(null, new Dictionary<string, string?> { ["Management:Url"] = "http://127.0.0.1:18081x" }));
    }

    [Theory]
    [InlineData("Proxy:KeepAliveTimeoutSeconds", "0", "Proxy:KeepAliveTimeoutSeconds is 0; it must be at least 1.")]
    [InlineData("Proxy:RequestHeadersTimeoutSeconds", "-5", "Proxy:RequestHeadersTimeoutSeconds is -5; it must be at least 1.")]
    [InlineData("Proxy:MaxUdpFlows", "0", "Proxy:MaxUdpFlows is 0; it must be at least 1.")]
    [InlineData("Proxy:Http1FastPath", "maybe", "maybe")]
    public void LoadSettings_InvalidProxySetting_IsRefusedWithItsName(string key, string value, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => TetherHost.LoadSettings(null, new Dictionary<string, string?> { [key] = value }));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}

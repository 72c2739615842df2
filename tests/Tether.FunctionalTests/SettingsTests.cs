using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Tether.FunctionalTests.Infrastructure;
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

        var settings = TetherHost.LoadSettings(file, new Dictionary<string, string?>(), NoEnvironment);
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
    public async Task SourceAddressesSetting_IsShownInTheLoadBalancerDetails()
    {
        await using var tether = await TetherInstance.StartAsync(configuration: new Dictionary<string, string?>
        {
            ["Management:SourceAddresses:Ipv4Public"] = "192.0.2.7",
        });
        await using var backend = await TestBackend.StartAsync("b1");
        var (id, _) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", [backend]);

        var lb = await tether.GetJsonAsync($"loadbalancers/{id}");

        // The test host binds PublicAddressV6 ::1 and PrivateAddress 127.0.0.1, specific addresses, so they are shown too.
        Assert.Equal("""{"ipv6Public":"::1","ipv4Servicenet":"127.0.0.1","ipv4Public":"192.0.2.7"}""", lb["loadBalancer"]!["sourceAddresses"]!.ToJsonString());
    }

    [Fact]
    public void LoadSettings_FlagOverridesFileAndInvalidUrlIsRefused()
    {
        var settings = TetherHost.LoadSettings(null, new Dictionary<string, string?> { ["DataDirectory"] = "/tmp/x", ["Management:Url"] = "http://127.0.0.1:18099" }, NoEnvironment);

        Assert.Equal("/tmp/x", settings.DataDirectory);
        Assert.Equal("http://127.0.0.1:18099", settings.ManagementUrl);
        Assert.Throws<SettingsException>(() => TetherHost.LoadSettings(null, new Dictionary<string, string?> { ["Management:Url"] = "http://127.0.0.1:18081x" }, NoEnvironment));
    }

    [Theory]
    [InlineData("Proxy:KeepAliveTimeoutSeconds", "0", "Proxy:KeepAliveTimeoutSeconds is 0; it must be at least 1.")]
    [InlineData("Proxy:RequestHeadersTimeoutSeconds", "-5", "Proxy:RequestHeadersTimeoutSeconds is -5; it must be at least 1.")]
    [InlineData("Proxy:MaxUdpFlows", "0", "Proxy:MaxUdpFlows is 0; it must be at least 1.")]
    [InlineData("Proxy:Http1FastPath", "maybe", "maybe")]
    public void LoadSettings_InvalidProxySetting_IsRefusedWithItsName(string key, string value, string expected)
    {
        var error = Assert.Throws<SettingsException>(() => TetherHost.LoadSettings(null, new Dictionary<string, string?> { [key] = value }, NoEnvironment));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoadSettings_UnknownKeysInJsonFile_AreRefusedWithTheClosestKnownName()
    {
        var file = await WriteSettingsFileAsync("""
            {
              "DataDir": "/tmp/somewhere",
              "Managment": { "Url": "http://127.0.0.1:0" },
              "Proxy": { "KeepAliveTimeoutSecs": 5, "Frobnicate": 1 }
            }
            """);

        var error = Assert.Throws<SettingsException>(() => TetherHost.LoadSettings(file, new Dictionary<string, string?>(), NoEnvironment));

        Assert.Contains($"DataDir: unknown setting; did you mean DataDirectory? ({file})", error.Errors);
        Assert.Contains($"Managment: unknown setting; did you mean Management? ({file})", error.Errors);
        Assert.Contains($"Proxy:KeepAliveTimeoutSecs: unknown setting; did you mean Proxy:KeepAliveTimeoutSeconds? ({file})", error.Errors);
        Assert.Contains(error.Errors, e => e.StartsWith("Proxy:Frobnicate: unknown setting; known here: ", StringComparison.Ordinal) && e.Contains("ConnectTimeoutSeconds", StringComparison.Ordinal));
        Assert.Equal(4, error.Errors.Count);
    }

    [Theory]
    [InlineData("""{ "Proxy": { "ConnectTimeoutSeconds": "five" } }""", "Proxy:ConnectTimeoutSeconds: \"five\" is not a whole number; give a whole number of seconds, such as 5")]
    [InlineData("""{ "Proxy": { "Http1FastPath": "maybe" } }""", "Proxy:Http1FastPath: \"maybe\" is not a boolean; give true or false")]
    [InlineData("""{ "PublicAddress": "localhost" }""", "PublicAddress: \"localhost\" is not an IPv4 address")]
    [InlineData("""{ "PublicAddressV6": "0.0.0.0" }""", "PublicAddressV6: \"0.0.0.0\" is not an IPv6 address")]
    [InlineData("""{ "PublicAddressV6": "::ffff:127.0.0.1" }""", "PublicAddressV6: \"::ffff:127.0.0.1\" is not an IPv6 address")]
    [InlineData("""{ "Management": { "Url": "https://127.0.0.1:8080" } }""", "Management:Url: \"https://127.0.0.1:8080\" is not a valid management URL; give http://ADDRESS:PORT")]
    [InlineData("""{ "Management": { "Tokens": [ { "Token": "t", "AccountId": 0 } ] } }""", "Management:Tokens:0:AccountId: is 0; it must be at least 1")]
    [InlineData("""{ "Management": { "Tokens": [ { "Token": "t" } ] } }""", "Management:Tokens:0: needs both Token (non-empty) and AccountId (1 or more)")]
    [InlineData("""{ "Management": { "MetricsUrl": "http://127.0.0.1" } }""", "Management:MetricsUrl: \"http://127.0.0.1\" needs a port from 1 to 65535")]
    [InlineData("""{ "Management": { "Url": "http://127.0.0.1:8080", "MetricsUrl": "http://127.0.0.1:8080" } }""", "Management:MetricsUrl: \"http://127.0.0.1:8080\" uses the management API's port")]
    [InlineData("""{ "Management": { "MetricsRequireToken": "yes" } }""", "Management:MetricsRequireToken: \"yes\" is not a boolean; give true or false")]
    [InlineData("""{ "Proxy": 5 }""", "Proxy: is a section, not a value (got \"5\"); give an object")]
    [InlineData("""{ "Management": { "Tokens": [ { "Token": "t", "AccountId": 1, "Role": "superuser" } ] } }""", "Management:Tokens:0:Role: \"superuser\" is not a role; give observer (GET only), creator (GET, POST, PUT) or admin (every method, the default)")]
    [InlineData("""{ "Management": { "RateLimits": "GET 10/week" } }""", "Management:RateLimits: \"GET 10/week\": the unit must be second, minute, hour or day")]
    [InlineData("""{ "Management": { "AllowedDomains": [ "example.com", "bad_name.com" ] } }""", "Management:AllowedDomains:1: \"bad_name.com\" is not a domain name")]
    [InlineData("""{ "Management": { "AllowedDomains": "example.com" } }""", "Management:AllowedDomains: is a section, not a value (got \"example.com\"); give an array")]
    [InlineData("""{ "Management": { "AllowedDomains": { "first": "example.com" } } }""", "Management:AllowedDomains:first: Management:AllowedDomains is an array; give [ \"example.com\" ]")]
    [InlineData("""{ "Proxy": { "KeepAliveTimeoutSeconds": 0 } }""", "Proxy:KeepAliveTimeoutSeconds is 0; it must be at least 1.")]
    [InlineData("""{ "Management": { "UsagePollSeconds": 0 } }""", "Management:UsagePollSeconds: is 0; it must be at least 1")]
    [InlineData("""{ "Management": { "UsagePollSeconds": 3601 } }""", "Management:UsagePollSeconds: is 3601; it must be from 1 to 3600 seconds")]
    [InlineData("""{ "Management": { "UsageRetentionDays": 3651 } }""", "Management:UsageRetentionDays: is 3651; it must be from 1 to 3650 days")]
    [InlineData("""{ "Management": { "SourceAddresses": { "Ipv4Public": "::1" } } }""", "Management:SourceAddresses:Ipv4Public: \"::1\" is not an IPv4 address")]
    [InlineData("""{ "Management": { "SourceAddresses": { "Ipv6Public": "10.0.0.1" } } }""", "Management:SourceAddresses:Ipv6Public: \"10.0.0.1\" is not an IPv6 address")]
    [InlineData("""{ "Management": { "SourceAddresses": { "Ipv4Private": "10.0.0.1" } } }""", "Management:SourceAddresses:Ipv4Private")]
    public async Task LoadSettings_WrongTypeOrValueInJsonFile_NamesTheSettingTheValueAndWhatIsAllowed(string json, string expected)
    {
        var file = await WriteSettingsFileAsync(json);

        var error = Assert.Throws<SettingsException>(() => TetherHost.LoadSettings(file, new Dictionary<string, string?>(), NoEnvironment));

        Assert.Contains(error.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{\n  \"DataDirectory\": \"d\",\n  \"Proxy\": { \"MaxUdpFlows\" 5 }\n}\n", "line 3, column 28: '5' is invalid after a property name. Expected a ':'")]
    [InlineData("{\n  \"DataDirectory\": \"d\",\n", "line 3, column 1: Expected start of a property name or value, but instead reached end of data")]
    [InlineData("{ \"Proxy\": { \"MaxUdpFlows\": 5 },\n  \"proxy\": {} }", "line 2: proxy is given twice")]
    [InlineData("[ 1 ]", "line 1: the file must hold one JSON object, not an array")]
    public async Task LoadSettings_BrokenJsonFile_GivesItsPathLineAndReason(string text, string expected)
    {
        var file = await WriteSettingsFileAsync(text);

        var error = Assert.Throws<SettingsException>(() => TetherHost.LoadSettings(file, new Dictionary<string, string?>(), NoEnvironment));

        Assert.StartsWith($"{file}: {expected}", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_UnknownSettingInFileAndEnvironment_ExitsWith2AndNamesEach()
    {
        var file = await WriteSettingsFileAsync("""{ "DataDir": "/tmp/somewhere" }""");

        var result = await TetherCli.RunAsync(["serve", "--config", file, "--listen", "http://127.0.0.1:0"], new Dictionary<string, string>
        {
            ["TETHER_DATADIR"] = "/tmp/elsewhere",
            ["TETHER_PROXY__CONNECTTIMEOUTSECONDS"] = "five",
        });

        Assert.Equal(2, result.Code);
        Assert.Equal(
            [
                $"tether serve: DataDir: unknown setting; did you mean DataDirectory? ({file})",
                "tether serve: TETHER_DATADIR: unknown setting; did you mean TETHER_DATADIRECTORY? (environment)",
                "tether serve: TETHER_PROXY__CONNECTTIMEOUTSECONDS: \"five\" is not a whole number; give a whole number of seconds, such as 5 (environment)",
            ],
            result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("", result.Output);
    }

    [Fact]
    public async Task LoadSettings_EveryManagementSetting_IsKnown()
    {
        var file = await WriteSettingsFileAsync("""
            {
              "DataDirectory": "d", "ManagementUrl": "http://127.0.0.1:8080", "PublicAddress": "0.0.0.0", "PrivateAddress": "127.0.0.1",
              "Management": { "Url": "http://127.0.0.1:8081", "MaskClientAddresses": false, "MetricsRequireToken": true,
                "MetricsUrl": "http://127.0.0.1:9100", "Tokens": [ { "Token": "t", "AccountId": 2, "Role": "observer" } ],
                "RateLimits": "rackspace", "AllowedDomains": [ "example.com", "org" ] },
              "Proxy": { "MaxUdpFlows": 5 }
            }
            """);

        var settings = TetherHost.LoadSettings(file, new Dictionary<string, string?>(), NoEnvironment);

        Assert.Equal("http://127.0.0.1:8081", settings.ManagementUrl);
        Assert.Equal("http://127.0.0.1:9100", settings.Configuration!["Management:MetricsUrl"]);
        Assert.Equal("observer", settings.Configuration["Management:Tokens:0:Role"]);
        Assert.Equal("rackspace", settings.Configuration["Management:RateLimits"]);
        Assert.Equal("org", settings.Configuration["Management:AllowedDomains:1"]);
    }

    [Fact]
    public async Task Serve_UnknownTokenRole_ExitsWith2AndSaysWhichRolesExist()
    {
        var file = await WriteSettingsFileAsync("""{ "Management": { "Tokens": [ { "Token": "t", "AccountId": 1, "Role": "root" } ] } }""");

        var result = await TetherCli.RunAsync(["serve", "--config", file, "--listen", "http://127.0.0.1:0", "--data-dir", TetherCli.TempPath("tether-role-")]);

        Assert.Equal(2, result.Code);
        Assert.Equal(
            $"tether serve: Management:Tokens:0:Role: \"root\" is not a role; give observer (GET only), creator (GET, POST, PUT) or admin (every method, the default) ({file})",
            result.Error.Trim());
    }

    [Fact]
    public void LoadSettings_PublicAddressV6FromTheEnvironment_IsRead()
    {
        var settings = TetherHost.LoadSettings(null, new Dictionary<string, string?>(), new Dictionary<string, string>
        {
            ["TETHER_PUBLICADDRESSV6"] = "::1",
        });

        Assert.Equal("::1", settings.PublicAddressV6);
        Assert.Equal("::", new TetherSettings().PublicAddressV6);
    }

    [Fact]
    public void LoadSettings_TetherVariables_AreReadAndUnknownOnesRefused()
    {
        var settings = TetherHost.LoadSettings(null, new Dictionary<string, string?>(), new Dictionary<string, string>
        {
            ["TETHER_PROXY__MAXUDPFLOWS"] = "7",
            ["TETHER_MANAGEMENT__TOKENS__0__TOKEN"] = "t",
            ["TETHER_MANAGEMENT__TOKENS__0__ACCOUNTID"] = "4",
            ["PATH"] = "/usr/bin",
        });
        var error = Assert.Throws<SettingsException>(() => TetherHost.LoadSettings(null, new Dictionary<string, string?>(), new Dictionary<string, string>
        {
            ["TETHER_MANAGMENT__URL"] = "http://127.0.0.1:0",
            ["TETHER_MANAGEMENT__TOKENS__0__TOKN"] = "t",
        }));

        Assert.Equal(7, settings.Configuration!.GetSection("Proxy").Get<ProxyOptions>()!.MaxUdpFlows);
        Assert.Equal(
            [
                "TETHER_MANAGEMENT__TOKENS__0__TOKN: unknown setting; did you mean TETHER_MANAGEMENT__TOKENS__0__TOKEN? (environment)",
                "TETHER_MANAGMENT: unknown setting; did you mean TETHER_MANAGEMENT? (environment)",
            ],
            error.Errors);
    }

    [Fact]
    public async Task Serve_MissingConfigFile_ExitsWith2()
    {
        var result = await TetherCli.RunAsync(["serve", "--config", "/nonexistent/tether.json"]);

        Assert.Equal(2, result.Code);
        Assert.Equal("tether serve: --config /nonexistent/tether.json: no such file (/nonexistent/tether.json)\n", result.Error);
    }

    [Theory]
    [InlineData("DataDir", "DataDirectory")]
    [InlineData("datadirectory2", "DataDirectory")]
    [InlineData("PublicAdress", "PublicAddress")]
    [InlineData("Mgmt", null)]
    public void Suggest_NearMissName_IsTheClosestKnownName(string given, string? expected)
    {
        Assert.Equal(expected, SettingsSchema.Suggest(given, ["DataDirectory", "ManagementUrl", "PublicAddress", "PrivateAddress", "Management", "Proxy"]));
    }

    /// <summary>The in-process tests read no <c>TETHER_</c> variable of the test run (a developer's or a test's own).</summary>
    private static readonly Dictionary<string, string> NoEnvironment = [];

    private static async Task<string> WriteSettingsFileAsync(string text)
    {
        var directory = TetherCli.TempPath("tether-settings-");
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, "tether.json");
        await File.WriteAllTextAsync(file, text);
        return file;
    }
}

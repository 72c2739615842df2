using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Panel;

/// <summary>
/// The control panel's browser tests (issue 15) share one real Tether, three real Kestrel backends and one headless
/// Debian <c>chromium</c> (<c>/usr/bin/chromium</c>, installed with apt-get when missing and running as root, see
/// <see cref="AptPackages"/>) driven by Playwright's node driver from its NuGet package; no browser is downloaded
/// (<c>PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1</c>, and <c>playwright install</c> is never called). Each test opens its
/// own browser context (its own sessionStorage). Screenshots go to <see cref="ScreenshotDirectory"/>:
/// <c>screenshots/</c> next to the test assembly (<c>tests/Tether.FunctionalTests/bin/Debug/net10.0/screenshots/</c>).
/// </summary>
public sealed class PanelFixture : IAsyncLifetime
{
    /// <summary>Chromium's flags: headless without a sandbox (CI containers run as root), no GPU, QUIC or background
    /// traffic (nothing leaves the machine).</summary>
    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private IPlaywright? _playwright;

    public TetherInstance Tether { get; private set; } = null!;

    public TestBackend[] Backends { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary><c>http://127.0.0.1:PORT</c> of the management API.</summary>
    public string Origin { get; private set; } = "";

    /// <summary>The admin token of account 1.</summary>
    public string Token { get; private set; } = "";

    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var chromium = await AptPackages.FindOrInstallAsync("chromium", "chromium", "the control panel's browser tests (issue 15)");
        Tether = await TetherInstance.StartAsync();
        Backends = [await TestBackend.StartAsync("b1"), await TestBackend.StartAsync("b2"), await TestBackend.StartAsync("b3")];
        Origin = Tether.Api.BaseAddress!.GetLeftPart(UriPartial.Authority);
        Token = Tether.Api.DefaultRequestHeaders.GetValues("X-Auth-Token").Single();
        Directory.CreateDirectory(ScreenshotDirectory);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ChromiumArgs,
            Timeout = 60_000,
        });
    }

    /// <summary>A new page in a new context (1280×860), with the page's console errors and failed requests collected
    /// in <paramref name="errors"/> (a CSP violation is a console error).</summary>
    public async Task<IPage> NewPageAsync(List<string> errors)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 860 } });
        context.SetDefaultTimeout(10_000);
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (errors)
                {
                    errors.Add(message.Text);
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (errors)
            {
                errors.Add(error);
            }
        };
        return page;
    }

    /// <summary>Opens the panel and signs in with the admin token; returns once the list is shown.</summary>
    public async Task SignInAsync(IPage page)
    {
        await page.GotoAsync(Origin + "/panel/");
        await page.GetByLabel("Account").FillAsync("1");
        await page.GetByLabel("API token").FillAsync(Token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Load Balancers" }).WaitForAsync();
    }

    /// <summary>Creates an HTTP load balancer named <paramref name="name"/> over the three backends through the API.</summary>
    public async Task<(int Id, int Port)> CreateLoadBalancerAsync(string name, string? persistenceJson = null)
    {
        var (id, port) = await Tether.CreateLoadBalancerAsync("ROUND_ROBIN", Backends, persistenceJson);
        var response = await Tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}", $$$"""{"loadBalancer":{"name":"{{{name}}}"}}""");
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        return (id, port);
    }

    public Task<JsonNode> GetJsonAsync(string path) => Tether.GetJsonAsync(path);

    /// <summary>Saves a full-page screenshot as <c>screenshots/NAME.png</c> (toasts removed first); returns its path.</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(ScreenshotDirectory, name + ".png");
        // Without the short-lived notices in the corner (they would cover the page).
        await page.EvaluateAsync("() => document.getElementById('toasts').replaceChildren()");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        foreach (var b in Backends ?? [])
        {
            await b.DisposeAsync();
        }

        if (Tether is not null)
        {
            await Tether.DisposeAsync();
        }
    }
}

/// <summary>The panel's test classes share one <see cref="PanelFixture"/> (one Tether, one browser) and run one after
/// another.</summary>
[CollectionDefinition("Panel")]
public sealed class PanelCollection : ICollectionFixture<PanelFixture>;

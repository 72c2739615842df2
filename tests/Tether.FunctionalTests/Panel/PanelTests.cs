using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Tether.FunctionalTests.Infrastructure;
using Tether.Management.Panel;

namespace Tether.FunctionalTests.Panel;

/// <summary>
/// The control panel (issue 15) in a real headless Chromium against a real Tether and real backends: sign-in, the
/// three seed-001 paths to "Edit Session Persistence" (cog wheel in the list, the Actions menu, the pencil in Optional
/// Features), enabling HTTP_COOKIE and checking with a real HTTP client that requests stick, disabling it, draining a
/// node, and an API validation message shown next to its field. Screenshots: <see cref="PanelFixture.ScreenshotDirectory"/>.
/// </summary>
[Collection("Panel")]
public sealed class PanelTests(PanelFixture fixture)
{
    private readonly List<string> _errors = [];

    [Fact]
    public async Task PanelFiles_Served_WithStrictContentSecurityPolicyAndNoInlineCode()
    {
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { BaseAddress = new Uri(fixture.Origin) };

        using var redirect = await http.GetAsync("/panel");
        using var index = await http.GetAsync("/panel/");
        using var module = await http.GetAsync("/panel/js/app.js");
        using var missing = await http.GetAsync("/panel/js/nothing.js");
        var html = await index.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("/panel/", redirect.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        Assert.Equal(PanelEndpoints.ContentSecurityPolicy, index.Headers.GetValues("Content-Security-Policy").Single());
        Assert.StartsWith("default-src 'self'", PanelEndpoints.ContentSecurityPolicy, StringComparison.Ordinal);
        Assert.Equal("nosniff", index.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("text/javascript", module.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.DoesNotMatch(new Regex("<script(?![^>]*\\bsrc=)[^>]*>", RegexOptions.IgnoreCase), html);
        Assert.DoesNotContain("style=", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(" on", Regex.Replace(html, "\\s+", " ").Replace(" one", "", StringComparison.Ordinal), StringComparison.Ordinal);

        var etag = index.Headers.ETag!;
        using var again = new HttpRequestMessage(HttpMethod.Get, "/panel/");
        again.Headers.IfNoneMatch.Add(etag);
        using var notModified = await http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task SignIn_WrongTokenThenAdminToken_ShowsListAndA401ReturnsToSignIn()
    {
        var page = await fixture.NewPageAsync(_errors);
        await page.GotoAsync(fixture.Origin + "/panel/");
        await page.GetByLabel("API token").FillAsync("not-a-token");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The token was refused for account 1");
        await PanelFixture.ScreenshotAsync(page, "01-sign-in-refused");

        await fixture.SignInAsync(page);
        Assert.Equal(fixture.Token, await page.EvaluateAsync<string>("() => JSON.parse(sessionStorage.getItem('tether.panel.session')).token"));

        // The token stops working (as a revoked one): the next API call answers 401 and the panel shows sign-in.
        await page.EvaluateAsync("() => sessionStorage.setItem('tether.panel.session', JSON.stringify({account: '1', token: 'revoked'}))");
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to Tether" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("refused");
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('tether.panel.session')"));
        AssertNoConsoleErrorsBut("401");
    }

    [Fact]
    public async Task SessionPersistence_ThreeSeedPathsEnableAndDisable_RequestsStickThenSpread()
    {
        var page = await fixture.NewPageAsync(_errors);
        await fixture.SignInAsync(page);
        var name = "web-seed-001";
        var port = FreePort.Next();

        // Create the load balancer over the three real backends in the panel.
        await page.GetByRole(AriaRole.Button, new() { Name = "Create Load Balancer" }).ClickAsync();
        var create = page.GetByRole(AriaRole.Dialog, new() { Name = "Create Load Balancer" });
        await create.GetByLabel("Name").FillAsync(name);
        await create.GetByLabel("Port").FillAsync(port.ToString(CultureInfo.InvariantCulture));
        await create.GetByLabel("Algorithm").SelectOptionAsync("ROUND_ROBIN");
        await create.GetByLabel("Virtual IP").SelectOptionAsync("SERVICENET");
        await create.GetByLabel("Nodes").FillAsync(string.Join('\n', fixture.Backends.Select(b => $"127.0.0.1:{b.Port}")));
        await PanelFixture.ScreenshotAsync(page, "02-create-load-balancer");
        await create.GetByRole(AriaRole.Button, new() { Name = "Create Load Balancer" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = name })).ToBeVisibleAsync();
        var id = int.Parse(Regex.Match(page.Url, "#/lb/(\\d+)$").Groups[1].Value, CultureInfo.InvariantCulture);
        using (var before = Clients.WithCookieJar(port, out _))
        {
            Assert.Equal(3, (await Clients.SpreadAsync(before, 6)).Count);
        }

        // Path 1: Load Balancers > cog wheel next to the name > Edit Session Persistence.
        await page.GetByRole(AriaRole.Link, new() { Name = "Load Balancers", Exact = true }).First.ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = $"Settings for {name}" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Menu)).ToBeVisibleAsync();
        await PanelFixture.ScreenshotAsync(page, "03-path1-cog-menu");
        await page.GetByRole(AriaRole.Menuitem, new() { Name = "Edit Session Persistence" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Edit Session Persistence" });
        await Assertions.Expect(dialog).ToBeVisibleAsync();
        await Assertions.Expect(dialog.GetByLabel("Enable session persistence")).Not.ToBeCheckedAsync();
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(dialog).Not.ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = $"Settings for {name}" })).ToBeFocusedAsync();

        // Path 2: select the load balancer > Actions > Edit Session Persistence, with the keyboard.
        await page.GetByRole(AriaRole.Link, new() { Name = name, Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "Details" })).ToContainTextAsync("ROUND_ROBIN");
        var actions = page.GetByRole(AriaRole.Button, new() { Name = "Actions", Exact = true });
        await actions.FocusAsync();
        await page.Keyboard.PressAsync("ArrowDown");
        await Assertions.Expect(page.GetByRole(AriaRole.Menuitem, new() { Name = "Edit Session Persistence" })).ToBeFocusedAsync();
        await PanelFixture.ScreenshotAsync(page, "04-path2-actions-menu");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(dialog).ToBeVisibleAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Assertions.Expect(dialog).Not.ToBeVisibleAsync();

        // Path 3: Optional Features > Session Persistence > pencil; enable HTTP_COOKIE.
        var features = page.GetByRole(AriaRole.Region, new() { Name = "Optional Features" });
        await Assertions.Expect(features).ToContainTextAsync("Disabled");
        await features.GetByRole(AriaRole.Button, new() { Name = "Edit Session Persistence" }).ClickAsync();
        await dialog.GetByLabel("Enable session persistence").CheckAsync();
        await dialog.GetByLabel("Persistence type").SelectOptionAsync("HTTP_COOKIE");
        await dialog.GetByLabel("Stickiness duration (minutes)").FillAsync("30");
        await PanelFixture.ScreenshotAsync(page, "05-path3-edit-session-persistence");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(dialog).Not.ToBeVisibleAsync();
        await Assertions.Expect(features).ToContainTextAsync("Enabled: HTTP_COOKIE, 30 min");
        var persistence = await fixture.GetJsonAsync($"loadbalancers/{id}/sessionpersistence");
        Assert.Equal("HTTP_COOKIE", (string?)persistence["sessionPersistence"]!["persistenceType"]);
        Assert.Equal(1800, (int?)persistence["sessionPersistence"]!["persistenceTimeout"]);

        using (var browserLike = Clients.WithCookieJar(port, out var jar))
        {
            Assert.Single(await Clients.SpreadAsync(browserLike, 12));
            Assert.NotNull(jar.GetCookies(new Uri($"http://127.0.0.1:{port}/"))[$"tether-{id}"]);
        }

        // The live view shows the pinned session (refreshed every few seconds, no reload).
        await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Persisted sessions" })).ToBeVisibleAsync(new() { Timeout = 15_000 });
        await PanelFixture.ScreenshotAsync(page, "06-load-balancer-page-http-cookie");

        // Disable it again through the pencil: the same cookie jar is balanced again.
        await features.GetByRole(AriaRole.Button, new() { Name = "Edit Session Persistence" }).ClickAsync();
        await dialog.GetByLabel("Enable session persistence").UncheckAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(features).ToContainTextAsync("Session PersistenceDisabled");
        Assert.Empty((await fixture.GetJsonAsync($"loadbalancers/{id}/sessionpersistence"))["sessionPersistence"]!.AsObject());
        using (var after = Clients.WithCookieJar(port, out _))
        {
            Assert.Equal(3, (await Clients.SpreadAsync(after, 6)).Count);
        }

        AssertNoConsoleErrorsBut();
    }

    [Fact]
    public async Task Node_DrainFromNodeMenu_ApiShowsDrainingAndPinnedClientStays()
    {
        var (id, port) = await fixture.CreateLoadBalancerAsync("web-drain", """{"persistenceType":"HTTP_COOKIE"}""");
        using var client = Clients.WithCookieJar(port, out _);
        var pinned = (await Clients.SpreadAsync(client, 3)).Keys.Single();
        var node = fixture.Backends.Single(b => b.Name == pinned);
        var page = await fixture.NewPageAsync(_errors);
        await fixture.SignInAsync(page);
        await page.GotoAsync($"{fixture.Origin}/panel/#/lb/{id}");

        await page.GetByRole(AriaRole.Button, new() { Name = $"Actions for node 127.0.0.1:{node.Port}" }).ClickAsync();
        await page.GetByRole(AriaRole.Menuitem, new() { Name = "Drain" }).ClickAsync();

        var row = page.GetByRole(AriaRole.Table, new() { Name = "Nodes" }).GetByRole(AriaRole.Row).Filter(new() { HasText = $"127.0.0.1:{node.Port}" });
        await Assertions.Expect(row).ToContainTextAsync("DRAINING");
        var nodes = (await fixture.GetJsonAsync($"loadbalancers/{id}/nodes"))["nodes"]!.AsArray();
        Assert.Equal("DRAINING", (string?)nodes.Single(n => (int?)n!["port"] == node.Port)!["condition"]);
        Assert.Equal([pinned], (await Clients.SpreadAsync(client, 4)).Keys);
        await Assertions.Expect(row).ToContainTextAsync("DRAINING");
        await PanelFixture.ScreenshotAsync(page, "07-node-draining");
        AssertNoConsoleErrorsBut();
    }

    [Fact]
    public async Task SessionPersistence_DurationOutOfRange_ApiMessageShownNextToTheField()
    {
        var (id, _) = await fixture.CreateLoadBalancerAsync("web-invalid");
        var page = await fixture.NewPageAsync(_errors);
        await fixture.SignInAsync(page);
        await page.GotoAsync($"{fixture.Origin}/panel/#/lb/{id}");

        await page.GetByRole(AriaRole.Region, new() { Name = "Optional Features" }).GetByRole(AriaRole.Button, new() { Name = "Edit Session Persistence" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Edit Session Persistence" });
        await dialog.GetByLabel("Enable session persistence").CheckAsync();
        await dialog.GetByLabel("Persistence type").SelectOptionAsync("APP_COOKIE");
        await dialog.GetByLabel("Stickiness duration (minutes)").FillAsync("2000");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();

        var duration = dialog.GetByLabel("Stickiness duration (minutes)");
        await Assertions.Expect(duration).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(dialog.Locator("[data-field=persistenceTimeout] .field-error"))
            .ToHaveTextAsync("must be from 60 to 86400 seconds (1 to 1440 minutes) on an HTTP load balancer (got 120000)");
        await Assertions.Expect(dialog.Locator("[data-field=cookieName] .field-error")).ToContainTextAsync("is required for APP_COOKIE");
        await PanelFixture.ScreenshotAsync(page, "08-validation-error");

        // The dialog keeps focus inside (Tab from the last control goes to the first) and nothing was changed.
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save" }).FocusAsync();
        await page.Keyboard.PressAsync("Tab");
        Assert.True(await dialog.EvaluateAsync<bool>("d => d.contains(document.activeElement)"));
        Assert.Empty((await fixture.GetJsonAsync($"loadbalancers/{id}/sessionpersistence"))["sessionPersistence"]!.AsObject());
        AssertNoConsoleErrorsBut("400");
    }

    /// <summary>No console error (a CSP violation, an exception) but the failed API calls a test causes on purpose.</summary>
    private void AssertNoConsoleErrorsBut(params string[] expected)
    {
        lock (_errors)
        {
            var unexpected = _errors.Where(e => !expected.Any(x => e.Contains(x, StringComparison.Ordinal))).ToList();
            Assert.True(unexpected.Count == 0, "console errors: " + string.Join("\n", unexpected));
        }
    }
}

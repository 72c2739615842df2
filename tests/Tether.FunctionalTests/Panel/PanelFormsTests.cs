using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Panel;

/// <summary>The control panel's other forms (issue 15) in a real Chromium: nodes added, edited and removed, the
/// Optional Features forms, unpinning a node's clients from the live view, and deleting a load balancer; each change
/// is read back through the API.</summary>
[Collection("Panel")]
public sealed class PanelFormsTests(PanelFixture fixture)
{
    private readonly List<string> _errors = [];

    [Fact]
    public async Task Nodes_AddEditRemoveInThePanel_ApiHoldsEachChange()
    {
        var (id, _) = await fixture.CreateLoadBalancerAsync("web-nodes");
        await using var extra = await TestBackend.StartAsync("b4");
        var page = await OpenAsync(id);
        var nodeName = $"127.0.0.1:{extra.Port}";

        await page.GetByRole(AriaRole.Button, new() { Name = "Add Node" }).ClickAsync();
        var add = page.GetByRole(AriaRole.Dialog, new() { Name = "Add Node" });
        await add.GetByLabel("Address").FillAsync("127.0.0.1");
        await add.GetByLabel("Port").FillAsync(extra.Port.ToString(CultureInfo.InvariantCulture));
        await add.GetByLabel("Weight").FillAsync("5");
        await add.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        var row = page.GetByRole(AriaRole.Table, new() { Name = "Nodes" }).GetByRole(AriaRole.Row).Filter(new() { HasText = nodeName });
        await Assertions.Expect(row).ToBeVisibleAsync();
        Assert.Equal(5, (int?)(await NodeAsync(id, extra.Port))!["weight"]);

        await page.GetByRole(AriaRole.Button, new() { Name = $"Actions for node {nodeName}" }).ClickAsync();
        await page.GetByRole(AriaRole.Menuitem, new() { Name = "Edit Node" }).ClickAsync();
        var edit = page.GetByRole(AriaRole.Dialog, new() { Name = $"Edit Node {nodeName}" });
        await edit.GetByLabel("Condition").SelectOptionAsync("DISABLED");
        await edit.GetByLabel("Weight").FillAsync("7");
        await edit.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync("DISABLED");
        var node = await NodeAsync(id, extra.Port);
        Assert.Equal(("DISABLED", 7), ((string?)node!["condition"], (int?)node["weight"]));

        await page.GetByRole(AriaRole.Button, new() { Name = $"Actions for node {nodeName}" }).ClickAsync();
        await page.GetByRole(AriaRole.Menuitem, new() { Name = "Remove Node" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog, new() { Name = "Remove Node" }).GetByRole(AriaRole.Button, new() { Name = "Remove Node" }).ClickAsync();
        await Assertions.Expect(row).Not.ToBeVisibleAsync();
        Assert.Null(await NodeAsync(id, extra.Port));
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task OptionalFeatures_EachForm_SavesThroughTheApi()
    {
        var (id, _) = await fixture.CreateLoadBalancerAsync("web-features");
        var page = await OpenAsync(id);
        var features = page.GetByRole(AriaRole.Region, new() { Name = "Optional Features" });

        var monitor = await OpenFeatureAsync(page, features, "Health Monitor");
        await monitor.GetByLabel("Type").SelectOptionAsync("HTTP");
        await monitor.GetByLabel("Delay (seconds)").FillAsync("2");
        await monitor.GetByLabel("Path").FillAsync("/health");
        await SaveAsync(monitor);
        await Assertions.Expect(features).ToContainTextAsync("HTTP every 2 s on /health");

        var access = await OpenFeatureAsync(page, features, "Access List");
        await access.GetByLabel("Address or network").FillAsync("203.0.113.0/24");
        await access.GetByRole(AriaRole.Button, new() { Name = "Add Rule" }).ClickAsync();
        await Assertions.Expect(access.GetByRole(AriaRole.Button, new() { Name = "Remove rule 203.0.113.0/24" })).ToBeVisibleAsync();
        await access.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Assertions.Expect(features).ToContainTextAsync("1 rule(s)");

        var throttle = await OpenFeatureAsync(page, features, "Connection Throttle");
        await throttle.GetByLabel("Max connections per client").FillAsync("25");
        await SaveAsync(throttle);
        await Assertions.Expect(features).ToContainTextAsync("At most 25 connections per client");

        var logging = await OpenFeatureAsync(page, features, "Connection Logging");
        await logging.GetByLabel("Log every request or connection").CheckAsync();
        await SaveAsync(logging);
        await Assertions.Expect(features).ToContainTextAsync($"On: logs/lb-{id}.log");

        var errorPage = await OpenFeatureAsync(page, features, "Error Page");
        await errorPage.GetByLabel("Content (HTML)").FillAsync("<html><body>We are back soon</body></html>");
        await SaveAsync(errorPage);

        var ssl = await OpenFeatureAsync(page, features, "SSL Termination");
        await ssl.GetByLabel("Secure port").FillAsync("70000");
        await ssl.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(ssl.Locator("[data-field=securePort] .field-error")).ToContainTextAsync("must be from 1 to 65535 (got 70000)");
        await Assertions.Expect(ssl.Locator("[data-field=certificate] .field-error")).ToBeVisibleAsync();
        await PanelFixture.ScreenshotAsync(page, "09-ssl-termination-refused");
        await ssl.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();

        var lb = (await fixture.GetJsonAsync($"loadbalancers/{id}"))["loadBalancer"]!;
        Assert.Equal("/health", (string?)lb["healthMonitor"]!["path"]);
        Assert.Equal("203.0.113.0/24", (string?)lb["accessList"]![0]!["address"]);
        Assert.Equal(25, (int?)lb["connectionThrottle"]!["maxConnections"]);
        Assert.True((bool?)lb["connectionLogging"]!["enabled"]);
        Assert.Contains("We are back soon", (string?)(await fixture.GetJsonAsync($"loadbalancers/{id}/errorpage"))["errorpage"]!["content"], StringComparison.Ordinal);
        Assert.Empty((await fixture.GetJsonAsync($"loadbalancers/{id}/ssltermination"))["sslTermination"]!.AsObject());
        await PanelFixture.ScreenshotAsync(page, "10-optional-features");
        AssertNoConsoleErrorsBut("400");
    }

    [Fact]
    public async Task LiveView_UnpinAndDelete_ClientsUnpinnedAndLoadBalancerGone()
    {
        var (id, port) = await fixture.CreateLoadBalancerAsync("web-unpin", """{"persistenceType":"SOURCE_IP"}""");
        using var client = Clients.WithoutCookies(port);
        var pinned = (await Clients.SpreadAsync(client, 3)).Keys.Single();
        var node = fixture.Backends.Single(b => b.Name == pinned);
        var page = await OpenAsync(id);

        await page.GetByRole(AriaRole.Button, new() { Name = $"Unpin clients of 127.0.0.1:{node.Port}" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog, new() { Name = "Unpin Clients" }).GetByRole(AriaRole.Button, new() { Name = "Unpin" }).ClickAsync();
        await Assertions.Expect(page.GetByText("No client is pinned yet.")).ToBeVisibleAsync();
        Assert.Empty((await fixture.GetJsonAsync($"loadbalancers/{id}/sessionpersistence/sessions"))["sessions"]!.AsArray());

        await page.GetByRole(AriaRole.Button, new() { Name = "Actions", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Menuitem, new() { Name = "Delete Load Balancer" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog, new() { Name = "Delete Load Balancer" }).GetByRole(AriaRole.Button, new() { Name = "Delete Load Balancer" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Load Balancers" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "web-unpin", Exact = true })).Not.ToBeVisibleAsync();
        using var gone = await fixture.Tether.Api.GetAsync($"loadbalancers/{id}");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
        AssertNoConsoleErrors();
    }

    private async Task<IPage> OpenAsync(int id)
    {
        var page = await fixture.NewPageAsync(_errors);
        await fixture.SignInAsync(page);
        await page.GotoAsync($"{fixture.Origin}/panel/#/lb/{id}");
        await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Nodes" })).ToBeVisibleAsync();
        return page;
    }

    private static async Task<ILocator> OpenFeatureAsync(IPage page, ILocator features, string name)
    {
        await features.GetByRole(AriaRole.Button, new() { Name = $"Edit {name}" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = $"Edit {name}" });
        await Assertions.Expect(dialog).ToBeVisibleAsync();
        return dialog;
    }

    private static async Task SaveAsync(ILocator dialog)
    {
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(dialog).Not.ToBeVisibleAsync();
    }

    private async Task<JsonNode?> NodeAsync(int id, int port) =>
        (await fixture.GetJsonAsync($"loadbalancers/{id}/nodes"))["nodes"]!.AsArray().SingleOrDefault(n => (int?)n!["port"] == port);

    private void AssertNoConsoleErrors() => AssertNoConsoleErrorsBut();

    private void AssertNoConsoleErrorsBut(params string[] expected)
    {
        lock (_errors)
        {
            var unexpected = _errors.Where(e => !expected.Any(x => e.Contains(x, StringComparison.Ordinal))).ToList();
            Assert.True(unexpected.Count == 0, "console errors: " + string.Join("\n", unexpected));
        }
    }
}

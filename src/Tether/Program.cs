using System.CommandLine;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Tether;

var dataDir = new Option<string?>("--data-dir") { Description = "Data directory: SQLite database, admin token, keys (default ./data)." };
var listen = new Option<string?>("--listen") { Description = "Management API URL (default http://127.0.0.1:8080)." };
var publicAddress = new Option<string?>("--public-address") { Description = "Address PUBLIC virtual IPs bind (default 0.0.0.0)." };
var privateAddress = new Option<string?>("--private-address") { Description = "Address SERVICENET virtual IPs bind (default 127.0.0.1)." };
var configFile = new Option<string?>("--config") { Description = "A JSON settings file (default ./tether.json when present)." };

var serve = new Command("serve", "Run the management API and every stored load balancer.")
{
    dataDir, listen, publicAddress, privateAddress, configFile,
};
serve.SetAction(async (parse, cancellationToken) =>
{
    TetherSettings settings;
    try
    {
        settings = TetherHost.LoadSettings(parse.GetValue(configFile), new Dictionary<string, string?>
        {
            ["DataDirectory"] = parse.GetValue(dataDir),
            ["Management:Url"] = parse.GetValue(listen),
            ["PublicAddress"] = parse.GetValue(publicAddress),
            ["PrivateAddress"] = parse.GetValue(privateAddress),
        });
    }
    catch (Exception e) when (e is ArgumentException or FileNotFoundException or InvalidDataException or FormatException)
    {
        await Console.Error.WriteLineAsync($"tether serve: {e.Message}").ConfigureAwait(false);
        return 2;
    }

    TetherHost.PrepareRuntime(settings);
    var app = TetherHost.Build(settings);
    await using (app.ConfigureAwait(false))
    {
        await TetherHost.StartAsync(app, cancellationToken).ConfigureAwait(false);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        Console.WriteLine($"Tether management API listening on {string.Join(", ", addresses ?? [])}; data in {Path.GetFullPath(settings.DataDirectory)}");
        await app.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
    }

    return 0;
});

var backendUrl = new Option<string>("--listen") { Description = "URL to listen on.", DefaultValueFactory = _ => "http://127.0.0.1:9001" };
var backendName = new Option<string?>("--name") { Description = "The name it answers with (default: its port)." };
var demoBackend = new Command("demo-backend", "Run a small HTTP backend that names itself in every answer (for the walk-through).")
{
    backendUrl, backendName,
};
demoBackend.SetAction(async (parse, cancellationToken) =>
{
    var url = parse.GetValue(backendUrl)!;
    var app = DemoBackend.Build(url, parse.GetValue(backendName) ?? new Uri(url).Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
    await using (app.ConfigureAwait(false))
    {
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"demo backend listening on {url}");
        await app.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
    }

    return 0;
});

var root = new RootCommand("Tether: a self-hosted load balancer with session persistence at its heart.")
{
    serve, demoBackend, AdminCommands.Token(), AdminCommands.Keys(),
};
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);

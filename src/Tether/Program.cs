using System.CommandLine;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Tether;

var dataDir = new Option<string?>("--data-dir") { Description = "Data directory: SQLite database, admin token, keys (default ./data)." };
var listen = new Option<string?>("--listen") { Description = "Management API URL (default http://127.0.0.1:8080)." };
var publicAddress = new Option<string?>("--public-address") { Description = "Address PUBLIC virtual IPs bind (default 0.0.0.0)." };
var publicAddressV6 = new Option<string?>("--public-address-v6") { Description = "Address IPV6 PUBLIC virtual IPs bind (default ::)." };
var privateAddress = new Option<string?>("--private-address") { Description = "Address SERVICENET virtual IPs bind (default 127.0.0.1)." };
var redis = new Option<string?>("--redis") { Description = "Cluster mode: a StackExchange.Redis configuration string of the store shared by every instance (docs/cluster.md)." };
var instance = new Option<string?>("--instance") { Description = "This instance's name in a cluster (default the host name)." };
var configFile = new Option<string?>("--config") { Description = "A JSON settings file (default ./tether.json when present)." };

var check = new Option<bool>("--check")
{
    Description = "Check the settings, the data directory and every stored load balancer (ports free, certificates valid), print what would start and exit: 0 when all is well, 2 otherwise. Binds nothing, changes nothing.",
};

var serve = new Command("serve", "Run the management API and every stored load balancer.")
{
    dataDir, listen, publicAddress, publicAddressV6, privateAddress, configFile, check, redis, instance,
};
serve.SetAction(async (parse, cancellationToken) =>
{
    // Every file and directory Tether creates is its owner's only (0700/0600), whatever the shell's umask.
    DataDirectory.RestrictNewFiles();
    TetherSettings settings;
    try
    {
        settings = TetherHost.LoadSettings(parse.GetValue(configFile), new Dictionary<string, string?>
        {
            ["DataDirectory"] = parse.GetValue(dataDir),
            ["Management:Url"] = parse.GetValue(listen),
            ["PublicAddress"] = parse.GetValue(publicAddress),
            ["PrivateAddress"] = parse.GetValue(privateAddress),
            ["PublicAddressV6"] = parse.GetValue(publicAddressV6),
            ["Redis"] = parse.GetValue(redis),
            ["Instance"] = parse.GetValue(instance),
        });
    }
    catch (SettingsException e)
    {
        foreach (var line in e.Errors)
        {
            await Console.Error.WriteLineAsync($"tether serve: {line}").ConfigureAwait(false);
        }

        return 2;
    }

    if (parse.GetValue(check))
    {
        return ServeCheck.Run(settings, Console.Out, Console.Error, TimeProvider.System);
    }

    var local = ServeCheck.LocalAddresses();
    foreach (var (flag, value) in new[] { ("--public-address", settings.PublicAddress), ("--private-address", settings.PrivateAddress), ("--public-address-v6", settings.PublicAddressV6) })
    {
        var address = System.Net.IPAddress.Parse(value);
        if (!ServeCheck.IsUsable(address, local))
        {
            await Console.Error.WriteLineAsync($"tether serve: {ServeCheck.NotLocal(flag, address, local)}").ConfigureAwait(false);
            return 2;
        }
    }

    // Checked before the host starts: Kestrel's own failure is logged by the host with its stack trace.
    var metricsUrl = settings.Configuration?["Management:MetricsUrl"];
    foreach (var (what, url) in new[] { ("--listen", settings.ManagementUrl), ("Management:MetricsUrl", metricsUrl) })
    {
        if (!string.IsNullOrEmpty(url) && ServeCheck.CannotListen(url) is { } listenError)
        {
            await Console.Error.WriteLineAsync($"tether serve: {what} {url}: cannot listen: {listenError}").ConfigureAwait(false);
            return 2;
        }
    }

    var directory = Path.GetFullPath(settings.DataDirectory);
    foreach (var warning in DataDirectory.PermissionWarnings(directory))
    {
        await Console.Error.WriteLineAsync($"tether serve: {warning}").ConfigureAwait(false);
    }

    if (Signals.Warning(Signals.IgnoredStops()) is { } signalWarning)
    {
        await Console.Error.WriteLineAsync($"tether serve: {signalWarning}").ConfigureAwait(false);
    }

    TetherHost.PrepareRuntime(settings);
    Microsoft.AspNetCore.Builder.WebApplication app;
    try
    {
        app = TetherHost.Build(settings);
    }
    catch (Exception e) when (e is UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException or InvalidOperationException or IOException)
    {
        await Console.Error.WriteLineAsync($"tether serve: data directory {directory}: {e.Message.TrimEnd('.')}").ConfigureAwait(false);
        return 2;
    }

    await using (app.ConfigureAwait(false))
    {
        try
        {
            await TetherHost.StartAsync(app, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException || e.InnerException is System.Net.Sockets.SocketException or Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            // Kestrel: "Failed to bind to address http://127.0.0.1:8080: address already in use." (taken meanwhile).
            var reason = e.Message.TrimEnd('.');
            await Console.Error.WriteLineAsync($"tether serve: cannot listen: {char.ToLowerInvariant(reason[0])}{reason[1..]}").ConfigureAwait(false);
            return 2;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException or InvalidOperationException or IOException)
        {
            await Console.Error.WriteLineAsync($"tether serve: data directory {directory}: {e.Message.TrimEnd('.')}").ConfigureAwait(false);
            return 2;
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        Console.WriteLine($"Tether management API listening on {string.Join(", ", addresses ?? [])}; data in {directory}");
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
    Tether.Cli.LbCommands.Create(), Tether.Cli.NodeCommands.Create(), Tether.Cli.PersistenceCommands.Create(),
    Tether.Cli.SessionCommands.Create(), Tether.Cli.StatsCommand.Create(), Tether.Cli.MonitorCommands.Create(), Tether.Cli.CompletionCommand.Create(),
};
var parsed = root.Parse(args);
var exitCode = await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);
// A command line System.CommandLine refuses (an unknown option, a value not among an option's choices, a required
// option missing) exits 2, as a refused setting does (sysexits' usage convention, as nginx and HAProxy exit on a bad
// command line); System.CommandLine has already printed what is wrong and the usage.
return parsed.Errors.Count > 0 ? 2 : exitCode;

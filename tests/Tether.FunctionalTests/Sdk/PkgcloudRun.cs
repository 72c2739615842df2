using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Sdk;

/// <summary>
/// One run of <c>Sdk/pkgcloud/pkgcloud-compat.js</c> (the real pkgcloud 2.2.0 client from npm) against a real Tether,
/// shared by the tests of <see cref="PkgcloudTests"/>: installs the npm packages of <c>package-lock.json</c> once into
/// a cache outside the repository (<c>$XDG_CACHE_HOME/tether-tests/pkgcloud-HASH</c>, else
/// <c>~/.cache/tether-tests/pkgcloud-HASH</c>, HASH from package.json and package-lock.json, reused across runs),
/// starts Tether, writes the test certificates, runs the script and keeps its one JSON line per scenario. A setup
/// failure (no node or npm on PATH, npm ci failed, the script died) is kept in <see cref="SetupError"/> and fails every
/// test with it.
/// </summary>
public sealed class PkgcloudRun : IAsyncLifetime
{
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromMinutes(2);

    private readonly Dictionary<string, (bool Ok, string Detail)> _results = new(StringComparer.Ordinal);
    private string? _tlsDirectory;

    /// <summary>Why the run could not happen, or null when it did.</summary>
    public string? SetupError { get; private set; }

    /// <summary>The script's standard output and error, for the test output.</summary>
    public string Output { get; private set; } = "";

    /// <summary>The scenarios the script reported, in its order.</summary>
    public List<string> Reported { get; } = [];

    public bool TryGet(string call, out bool ok, out string detail)
    {
        var found = _results.TryGetValue(call, out var result);
        (ok, detail) = result;
        return found;
    }

    public async Task InitializeAsync()
    {
        TetherInstance? tether = null;
        try
        {
            var source = Path.Combine(AppContext.BaseDirectory, "Sdk", "pkgcloud");
            var node = FindOnPath("node");
            var npm = FindOnPath("npm");
            if (node is null || npm is null)
            {
                SetupError = "node and npm are required on PATH for the pkgcloud SDK tests (Node.js 18 or later; Debian: apt-get install nodejs npm)";
                return;
            }

            var modules = await InstallAsync(npm, source);
            // usage polled every second, so that the usage and billable calls see this run's traffic
            tether = await TetherInstance.StartAsync(configuration: new Dictionary<string, string?> { ["Management:UsagePollSeconds"] = "1" });
            _tlsDirectory = WriteCertificates();
            await RunScriptAsync(node, Path.Combine(source, "pkgcloud-compat.js"), modules, tether);
        }
        catch (Exception e)
        {
            SetupError = $"pkgcloud run failed: {e.Message}";
        }
        finally
        {
            if (tether is not null)
            {
                await tether.DisposeAsync();
            }
        }
    }

    public Task DisposeAsync()
    {
        if (_tlsDirectory is not null)
        {
            Directory.Delete(_tlsDirectory, recursive: true);
        }

        return Task.CompletedTask;
    }

    /// <summary>The <c>node_modules</c> directory of the cached install for these package files, installed with
    /// <c>npm ci</c> (exactly package-lock.json, no install scripts) when not there yet. A new install goes to a
    /// temporary directory renamed into place, so a half-finished one is never reused.</summary>
    private static async Task<string> InstallAsync(string npm, string source)
    {
        var files = new[] { "package.json", "package-lock.json" };
        var hash = Convert.ToHexStringLower(SHA256.HashData(files.SelectMany(f => File.ReadAllBytes(Path.Combine(source, f))).ToArray()))[..16];
        var cacheRoot = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home ? home : Path.GetTempPath(), ".cache");
        var directory = Path.Combine(cacheRoot, "tether-tests", "pkgcloud-" + hash);
        var modules = Path.Combine(directory, "node_modules");
        if (File.Exists(Path.Combine(modules, "pkgcloud", "package.json")))
        {
            return modules;
        }

        var staging = directory + ".tmp-" + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(staging);
        try
        {
            foreach (var f in files)
            {
                File.Copy(Path.Combine(source, f), Path.Combine(staging, f));
            }

            var (exit, output) = await RunAsync(npm, ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], staging, null, InstallTimeout);
            if (exit != 0)
            {
                throw new InvalidOperationException($"npm ci in {staging} exited {exit}:\n{output}");
            }

            try
            {
                Directory.Move(staging, directory);
            }
            catch (IOException) when (File.Exists(Path.Combine(modules, "pkgcloud", "package.json")))
            {
                // another test run installed the same files meanwhile
            }

            return modules;
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    private async Task RunScriptAsync(string node, string script, string modules, TetherInstance tether)
    {
        var token = tether.Api.DefaultRequestHeaders.GetValues("X-Auth-Token").Single();
        var baseAddress = tether.Api.BaseAddress!;
        var environment = new Dictionary<string, string>
        {
            ["NODE_PATH"] = modules,
            ["TETHER_API"] = baseAddress.GetLeftPart(UriPartial.Authority),
            ["TETHER_ACCOUNT"] = baseAddress.Segments[2].TrimEnd('/'),
            ["TETHER_TOKEN"] = token,
            ["TETHER_PORTS"] = string.Join(',', Enumerable.Range(0, 12).Select(_ => FreePort.Next())),
            ["TETHER_TLS_DIR"] = _tlsDirectory!,
        };
        var (exit, output) = await RunAsync(node, [script], Path.GetDirectoryName(modules)!, environment, ScriptTimeout);
        Output = output;
        foreach (var line in output.Split('\n'))
        {
            if (!line.StartsWith("{\"call\":", StringComparison.Ordinal))
            {
                continue;
            }

            using var json = JsonDocument.Parse(line);
            var call = json.RootElement.GetProperty("call").GetString()!;
            Reported.Add(call);
            _results[call] = (json.RootElement.GetProperty("ok").GetBoolean(), json.RootElement.GetProperty("detail").GetString()!);
        }

        if (exit != 0 || _results.ContainsKey("(script)"))
        {
            SetupError = $"node {script} exited {exit}:\n{output}";
        }
    }

    /// <summary>A CA, a leaf for localhost issued by it, and a self-signed certificate for sni.example.test, as PEM
    /// files in a new temporary directory (ca.pem, leaf.pem, leaf.key, sni.pem, sni.key).</summary>
    private static string WriteCertificates()
    {
        var directory = Path.Combine(Path.GetTempPath(), "tether-pkgcloud-tls-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Tether pkgcloud test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        using var leafKey = RSA.Create(2048);
        var leafRequest = new CertificateRequest("CN=localhost", leafKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        leafRequest.CertificateExtensions.Add(names.Build());
        using var leaf = leafRequest.Create(ca, now.AddDays(-1), now.AddDays(29), RandomNumberGenerator.GetBytes(8));

        using var sniKey = RSA.Create(2048);
        var sniRequest = new CertificateRequest("CN=sni.example.test", sniKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var sniNames = new SubjectAlternativeNameBuilder();
        sniNames.AddDnsName("sni.example.test");
        sniRequest.CertificateExtensions.Add(sniNames.Build());
        using var sni = sniRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        File.WriteAllText(Path.Combine(directory, "ca.pem"), ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "leaf.pem"), leaf.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "leaf.key"), leafKey.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(directory, "sni.pem"), sni.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "sni.key"), sniKey.ExportPkcs8PrivateKeyPem());
        return directory;
    }

    private static string? FindOnPath(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Runs a program to its end (killed with its children after <paramref name="timeout"/>) and returns its
    /// exit code and its standard output then standard error.</summary>
    private static async Task<(int Exit, string Output)> RunAsync(string program, string[] args, string directory, Dictionary<string, string>? environment, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? [])
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            return (-1, $"{program} {string.Join(' ', args)}: no end within {timeout.TotalSeconds} s, killed\n{await stdout}{await stderr}");
        }

        var text = new StringBuilder(await stdout).Append(await stderr).ToString();
        return (process.ExitCode, text);
    }
}

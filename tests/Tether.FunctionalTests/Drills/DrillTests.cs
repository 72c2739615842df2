using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace Tether.FunctionalTests.Drills;

/// <summary>
/// The short (<c>--quick</c>) versions of the reliability drills in <c>drills/</c> (issue 11 item 8,
/// docs/reliability.md), run in CI against the Tether this test project already built (<c>--tether-dll</c>, no
/// Release build). Each drill is one bash script that starts Tether, backends and clients on 127.0.0.1 itself and
/// exits 0 when Tether held; the script's whole output is shown when it does not. The tests of this class run one after
/// the other (one xUnit collection), so at most one drill loads the machine at a time.
/// </summary>
[Collection(nameof(DrillTests))]
public sealed class DrillTests(ITestOutputHelper output)
{
    /// <summary>Longest a quick drill may take, setup included; the drills' own watchdogs are longer.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    [Fact]
    public Task ConfigChanges_QuickUnderLoad_NoFailedRequestAndFinalConfigurationAsExpected() =>
        RunAsync("config-changes.sh", "config-changes: ");

    [Fact]
    public Task KillRestart_QuickKill9DuringWrites_NoAcknowledgedWriteLostAndIntegrityOk() =>
        RunAsync("kill-restart.sh", "kill-restart: ");

    [Fact]
    public Task ForgedCookies_Quick_NoForgedCookieRouted() =>
        RunAsync("forged-cookies.sh", "forged-cookies: ");

    [Fact]
    public Task ApiFuzz_Quick_No5xxAndNoStateChangeByRefusedRequests() =>
        RunAsync("api-fuzz.sh", "api-fuzz: ");

    [Fact]
    public Task IdleClients_Quick_EveryIdleClientAnsweredAndTetherServes() =>
        RunAsync("idle-clients.sh", "idle-clients: ");

    /// <summary>The drills' own checks flag the failures they look for (a lost write, a node that was not configured,
    /// a forged cookie equal to a real one, an uncovered API route...): <c>drills/drill_selftest.py</c>.</summary>
    [Fact]
    public Task DrillChecks_SelfTest_EachCheckFlagsTheFailureItLooksFor() =>
        RunAsync("drill_selftest.py", "drill self-test: 0 failed", "python3", []);

    private Task RunAsync(string script, string summaryPrefix)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "tether.dll");
        Assert.True(File.Exists(dll), $"no tether.dll next to the tests ({dll})");
        return RunAsync(script, summaryPrefix, "bash", ["--quick", "--tether-dll", dll]);
    }

    private async Task RunAsync(string script, string summaryPrefix, string interpreter, string[] args)
    {
        var repository = FindRepository();
        var info = new ProcessStartInfo(interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = repository,
        };
        info.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        foreach (var arg in new[] { Path.Combine(repository, "drills", script) }.Concat(args))
        {
            info.ArgumentList.Add(arg);
        }

        var text = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(text, e.Data);
        process.ErrorDataReceived += (_, e) => Append(text, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cancel = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM to the drill only (by its pid): its trap stops what it started
            using var term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await term.WaitForExitAsync();
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Fail($"drills/{script} did not finish within {Timeout.TotalMinutes} minutes; its output:\n{Snapshot(text)}");
        }

        process.WaitForExit();   // flushes the redirected output
        var all = Snapshot(text);
        output.WriteLine(all);
        Assert.True(process.ExitCode == 0, $"drills/{script} {string.Join(' ', args)} exited {process.ExitCode} (1 FAIL, 2 setup failed); its output:\n{all}");
        Assert.Contains(summaryPrefix, all, StringComparison.Ordinal);
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (text)
        {
            text.AppendLine(line);
        }
    }

    private static string Snapshot(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }

    /// <summary>The repository root: the nearest directory above the test binaries holding <c>drills/</c> and
    /// <c>Tether.slnx</c>.</summary>
    private static string FindRepository()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Tether.slnx")) && Directory.Exists(Path.Combine(directory.FullName, "drills")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no repository (Tether.slnx and drills/) above {AppContext.BaseDirectory}");
    }
}

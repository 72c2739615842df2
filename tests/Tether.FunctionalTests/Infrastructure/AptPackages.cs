using System.Diagnostics;

namespace Tether.FunctionalTests.Infrastructure;

/// <summary>
/// Programs the functional tests need from Debian packages (<c>redis-server</c> for the cluster tests, <c>chromium</c>
/// for the panel's browser tests): found on PATH, in /usr/bin, /usr/sbin or /usr/local/bin; when missing and the tests
/// run as root on a machine with apt-get (a fresh CI machine), installed with <c>apt-get install -y
/// --no-install-recommends PACKAGE</c>, once per machine: concurrent test processes take turns on a lock file
/// (<c>/tmp/tether-tests-apt.lock</c>) and the ones after the first find it installed; apt-get waits up to 10 minutes
/// for the dpkg lock of any other apt run. Not root and not installed: an <see cref="InvalidOperationException"/> with
/// the command to run.
/// </summary>
public static class AptPackages
{
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(10);
    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    /// <summary>The full path of <paramref name="executable"/>, installing <paramref name="package"/> first when it is
    /// missing (see the class remarks); <paramref name="purpose"/> names the tests that need it in the error.</summary>
    public static async Task<string> FindOrInstallAsync(string executable, string package, string purpose)
    {
        if (Find(executable) is { } found)
        {
            return found;
        }

        await InstallGate.WaitAsync();
        try
        {
            if (Find(executable) is { } again)
            {
                return again;
            }

            if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess || Find("apt-get") is null)
            {
                throw new InvalidOperationException(
                    $"{executable} is required for {purpose} and is not installed; on Debian or Ubuntu: sudo apt-get install {package} " +
                    "(the tests install it themselves when they run as root)");
            }

            using (await MachineLockAsync())
            {
                if (Find(executable) is { } installed)
                {
                    return installed;
                }

                var (exit, output) = await AptGetAsync("install", "-y", "--no-install-recommends", package);
                if (exit != 0)
                {
                    // a fresh machine may have no package lists yet, or lists naming a version the mirror no longer has
                    await AptGetAsync("update");
                    (exit, output) = await AptGetAsync("install", "-y", "--no-install-recommends", package);
                }

                return Find(executable)
                    ?? throw new InvalidOperationException($"apt-get install -y {package} exited {exit} and no {executable} was found after it:\n{output}");
            }
        }
        finally
        {
            InstallGate.Release();
        }
    }

    private static string? Find(string name)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (var directory in path.Concat(["/usr/bin", "/usr/sbin", "/usr/local/bin"]))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>An exclusive lock on <c>/tmp/tether-tests-apt.lock</c> (flock through <see cref="FileShare.None"/>),
    /// waited for up to the install timeout: test processes of one machine install one after another.</summary>
    private static async Task<FileStream> MachineLockAsync()
    {
        var path = Path.Combine(Path.GetTempPath(), "tether-tests-apt.lock");
        var deadline = DateTime.UtcNow + InstallTimeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
        }
    }

    /// <summary>Runs <c>apt-get ARGS</c> non-interactively, waiting up to 10 minutes for the dpkg lock, and returns
    /// its exit code and its output.</summary>
    private static async Task<(int Exit, string Output)> AptGetAsync(params string[] args)
    {
        var info = new ProcessStartInfo("apt-get") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        info.ArgumentList.Add("-o");
        info.ArgumentList.Add("DPkg::Lock::Timeout=600");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(InstallTimeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"apt-get {string.Join(' ', args)}: no end within {InstallTimeout.TotalMinutes} minutes, killed\n{await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}

using System.Diagnostics;

namespace Tether.FunctionalTests.Infrastructure;

/// <summary>Runs the real <c>tether</c> executable (<c>dotnet tether.dll ...</c>) to its end, as an operator would.</summary>
public static class TetherCli
{
    /// <summary>What a finished command left: its exit code, standard output and standard error.</summary>
    public sealed record Result(int Code, string Output, string Error);

    /// <summary>Runs <c>tether</c> with <paramref name="args"/>; the <c>TETHER_</c> variables of the test process are
    /// removed and <paramref name="environment"/> added. Kills it after 60 seconds.</summary>
    public static async Task<Result> RunAsync(string[] args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null)
        {
            info.WorkingDirectory = workingDirectory;
        }

        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("TETHER_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tether.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"tether {string.Join(' ', args)} did not end within 60 s");
        }

        return new Result(process.ExitCode, await output, await error);
    }

    /// <summary>A new directory under the temporary directory (not created).</summary>
    public static string TempPath(string prefix) => Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));
}

using System.Diagnostics;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Cli;

/// <summary>Shell completion: System.CommandLine's <c>[suggest]</c> directive and the bash script of
/// <c>tether completion bash</c>, run in a real bash.</summary>
public sealed class CompletionCommandTests
{
    [Theory]
    [InlineData("tether lb li", "list")]
    [InlineData("tether lb create web --algorithm WEIGHTED_R", "WEIGHTED_ROUND_ROBIN")]
    [InlineData("tether persistence enable 1 --type SO", "SOURCE_IP")]
    [InlineData("tether node update 1 2 --condition DRA", "DRAINING")]
    public async Task SuggestDirective_PartialLine_SuggestsTheCompletion(string line, string expected)
    {
        var result = await TetherCli.RunAsync([$"[suggest:{line.Length}]", line]);

        Assert.Equal(0, result.Code);
        Assert.Contains(expected, result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task CompletionBash_InARealBash_CompletesCommandsAndValuesByPrefix()
    {
        var script = await TetherCli.RunAsync(["completion", "bash"]);
        var directory = TetherCli.TempPath("tether-completion-");
        Directory.CreateDirectory(directory);
        try
        {
            // A `tether` on PATH as an operator has it (the published single file; here dotnet tether.dll).
            var shim = Path.Combine(directory, "tether");
            await File.WriteAllTextAsync(shim, $"#!/bin/sh\nexec dotnet '{Path.Combine(AppContext.BaseDirectory, "tether.dll")}' \"$@\"\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(shim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            await File.WriteAllTextAsync(Path.Combine(directory, "completion.bash"), script.Output);
            var output = await BashAsync(directory, """
                source ./completion.bash
                complete -p tether
                try() { COMP_LINE="$1"; COMP_POINT=${#1}; read -ra COMP_WORDS <<< "$1"; COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _tether_complete; echo "${COMPREPLY[*]}"; }
                try "tether lb li"
                try "tether lb create web --algorithm RO"
                try "tether monitor set 1 --type HT"
                """);

            Assert.Equal(0, script.Code);
            Assert.Equal(
                "complete -o default -F _tether_complete tether\n" +
                "list\n" +
                "ROUND_ROBIN\n" +
                "HTTP HTTPS\n",
                output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Completion_UnknownShell_Exits2()
    {
        var result = await TetherCli.RunAsync(["completion", "powershell"]);

        Assert.Equal(2, result.Code);
    }

    private static async Task<string> BashAsync(string directory, string script)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        info.Environment["PATH"] = directory + ":" + Environment.GetEnvironmentVariable("PATH");
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"bash exited {process.ExitCode}: {error}");
        return output;
    }
}

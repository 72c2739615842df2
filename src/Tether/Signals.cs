using System.Globalization;

namespace Tether;

/// <summary>
/// The stop signals of <c>tether serve</c> as this process received them. A process started with SIGINT or SIGQUIT
/// ignored (what a non-interactive shell does to a job it starts with <c>&amp;</c>: POSIX "Shell Command Language",
/// asynchronous lists) keeps them ignored: the .NET runtime respects an inherited ignore and installs no handler
/// (dotnet/runtime pal_signal.c, "We respect ignored signals"), so Ctrl-C and <c>kill -INT</c> do nothing and only
/// SIGTERM stops it.
/// </summary>
internal static class Signals
{
    /// <summary>Signal numbers (Linux) of SIGINT and SIGQUIT.</summary>
    private static readonly (int Number, string Name)[] Stops = [(2, "SIGINT"), (3, "SIGQUIT")];

    /// <summary>The names of the stop signals (SIGINT, SIGQUIT) this process ignores, read from the <c>SigIgn</c> mask
    /// of <c>/proc/self/status</c> (hexadecimal, bit n-1 for signal n; proc(5)); empty when none is ignored or where
    /// there is no such file (not Linux).</summary>
    public static List<string> IgnoredStops() => IgnoredStops(File.Exists("/proc/self/status") ? File.ReadAllLines("/proc/self/status") : []);

    /// <summary>As <see cref="IgnoredStops()"/>, from the lines of a <c>/proc/PID/status</c> file.</summary>
    internal static List<string> IgnoredStops(IEnumerable<string> statusLines)
    {
        var ignored = new List<string>();
        foreach (var line in statusLines)
        {
            if (line.StartsWith("SigIgn:", StringComparison.Ordinal)
                && ulong.TryParse(line.AsSpan(7).Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var mask))
            {
                foreach (var (number, name) in Stops)
                {
                    if ((mask & (1UL << (number - 1))) != 0)
                    {
                        ignored.Add(name);
                    }
                }
            }
        }

        return ignored;
    }

    /// <summary>The warning <c>tether serve</c> prints when it was started with stop signals ignored, or <c>null</c>.</summary>
    public static string? Warning(List<string> ignored) => ignored.Count == 0
        ? null
        : $"warning: {string.Join(" and ", ignored)} {(ignored.Count == 1 ? "is" : "are")} ignored in this process (it was started so, as a shell starts a background job with &): Ctrl-C and kill -INT will not stop it; stop it with SIGTERM (kill {Environment.ProcessId}), or start it with SIGINT at its default (env --default-signal=INT tether serve ...)";
}

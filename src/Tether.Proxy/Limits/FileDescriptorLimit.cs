using System.Runtime.InteropServices;

namespace Tether.Proxy.Limits;

/// <summary>
/// The process's open file limit (<c>RLIMIT_NOFILE</c>): every client and node connection is a file descriptor, and a
/// process at its limit can neither accept nor connect, nor start a runtime thread (the .NET runtime then aborts the
/// whole process with "Out of memory"). <c>tether serve</c> raises the soft limit to the hard limit at start, as
/// nginx's <c>worker_rlimit_nofile</c> and HAProxy do, and keeps <see cref="ConnectionBudget"/> below it.
/// </summary>
internal static partial class FileDescriptorLimit
{
    private const int RlimitNofile = 7; // Linux

    /// <summary>Raises the soft open file limit to the hard limit (Linux; elsewhere nothing is done).</summary>
    /// <returns>The soft and hard limits after the change and whether the soft one was raised; null when they cannot be
    /// read (not Linux, or the call failed).</returns>
    public static (ulong Soft, ulong Hard, bool Raised)? Raise()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            if (GetRLimit(RlimitNofile, out var limit) != 0)
            {
                return null;
            }

            if (limit.Current >= limit.Maximum)
            {
                return (limit.Current, limit.Maximum, false);
            }

            var raised = new RLimit { Current = limit.Maximum, Maximum = limit.Maximum };
            return SetRLimit(RlimitNofile, in raised) == 0 ? (limit.Maximum, limit.Maximum, true) : (limit.Current, limit.Maximum, false);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);
}

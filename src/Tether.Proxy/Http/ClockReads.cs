namespace Tether.Proxy.Http;

/// <summary>Clock reads of the HTTP data paths, all through a <see cref="TimeProvider"/> (never the
/// <see cref="System.Diagnostics.Stopwatch"/> or <c>Environment.TickCount64</c> directly), so that tests can
/// drive them.</summary>
internal static class ClockReads
{
    /// <summary><paramref name="clock"/>'s monotonic time in whole milliseconds (for deadlines kept as a
    /// <see cref="long"/>; the origin is arbitrary). No allocation.</summary>
    public static long Milliseconds(this TimeProvider clock) =>
        clock.GetTimestamp() / Math.Max(1, clock.TimestampFrequency / 1000);

    /// <summary>Whole milliseconds from <paramref name="started"/> to <paramref name="ended"/> (timestamps of
    /// <paramref name="clock"/>).</summary>
    public static int ElapsedMilliseconds(this TimeProvider clock, long started, long ended) =>
        (int)clock.GetElapsedTime(started, ended).TotalMilliseconds;
}

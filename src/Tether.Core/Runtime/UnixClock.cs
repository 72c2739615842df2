namespace Tether.Core.Runtime;

/// <summary>
/// Unix time in whole seconds derived from a <see cref="TimeProvider.GetTimestamp"/> value, so that a request that
/// has read the monotonic clock once needs no second read of the wall clock (HTTP_COOKIE compares cookie times in
/// Unix seconds). On this class of machine a clock read costs about 40 ns, half of a whole persistence decision.
/// </summary>
/// <remarks>
/// An anchor pairs one timestamp with the wall-clock time read at the same moment; a timestamp is converted by its
/// distance from the anchor. <see cref="Resync"/> (every stick-table purge, off the request path) re-reads the wall
/// clock, so a step of the system clock (NTP) is followed within one purge interval. The anchor is one immutable
/// object behind a volatile reference: readers never lock and never see half an update.
/// </remarks>
public sealed class UnixClock
{
    private readonly TimeProvider _time;
    private volatile Anchor _anchor;

    /// <summary>Anchors the clock to <paramref name="time"/> now.</summary>
    public UnixClock(TimeProvider time)
    {
        _time = time;
        _anchor = Read(time);
    }

    /// <summary>The Unix time in whole seconds (rounded down) at <paramref name="timestamp"/>, a value of the
    /// provider's <see cref="TimeProvider.GetTimestamp"/>.</summary>
    public long SecondsAt(long timestamp)
    {
        var anchor = _anchor;
        var unixTicks = anchor.UnixTicks + (long)((timestamp - anchor.Timestamp) * anchor.TicksPerTimestamp);
        return Math.DivRem(unixTicks, TimeSpan.TicksPerSecond, out var rest) - (rest < 0 ? 1 : 0);
    }

    /// <summary>The Unix time in whole seconds now (one monotonic clock read).</summary>
    public long Now => SecondsAt(_time.GetTimestamp());

    /// <summary>Re-reads the wall clock (off the request path).</summary>
    public void Resync() => _anchor = Read(_time);

    private static Anchor Read(TimeProvider time)
    {
        var timestamp = time.GetTimestamp();
        var unixTicks = time.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return new Anchor(timestamp, unixTicks, (double)TimeSpan.TicksPerSecond / time.TimestampFrequency);
    }

    private sealed record Anchor(long Timestamp, long UnixTicks, double TicksPerTimestamp);
}

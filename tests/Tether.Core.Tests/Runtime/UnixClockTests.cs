using Microsoft.Extensions.Time.Testing;
using Tether.Core.Runtime;

namespace Tether.Core.Tests.Runtime;

public sealed class UnixClockTests
{
    [Fact]
    public void SecondsAt_AcrossFractionalSteps_EqualsTheWallClockInWholeSeconds()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_700));
        var clock = new UnixClock(time);

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(time.GetUtcNow().ToUnixTimeSeconds(), clock.SecondsAt(time.GetTimestamp()));
            Assert.Equal(time.GetUtcNow().ToUnixTimeSeconds(), clock.Now);
            time.Advance(TimeSpan.FromMilliseconds(130));
        }
    }

    [Fact]
    public void SecondsAt_TimestampBeforeTheAnchor_RoundsDown()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_200));
        var clock = new UnixClock(time);

        var earlier = time.GetTimestamp() - (time.TimestampFrequency / 2);

        Assert.Equal(1_699_999_999, clock.SecondsAt(earlier));
    }

    [Fact]
    public void Resync_WallClockStepped_FollowsTheStep()
    {
        var time = new SteppableWallClock(new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000)));
        var clock = new UnixClock(time);

        time.Step = TimeSpan.FromSeconds(3600);

        Assert.Equal(1_700_000_000, clock.Now);
        clock.Resync();
        Assert.Equal(1_700_003_600, clock.Now);
    }

    /// <summary>A wall clock that can be stepped (as NTP steps it) while the monotonic timestamps run on.</summary>
    private sealed class SteppableWallClock(FakeTimeProvider inner) : TimeProvider
    {
        public TimeSpan Step { get; set; }

        public override long TimestampFrequency => inner.TimestampFrequency;

        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + Step;

        public override long GetTimestamp() => inner.GetTimestamp();
    }
}

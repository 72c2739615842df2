using Tether.Core.SessionPersistence;

namespace Tether.Core.Tests.SessionPersistence;

public sealed class StableHashTests
{
    [Fact]
    public void Of_String_IsFnv1aThenSplitMix()
    {
        // FNV-1a 64 of "a" with seed 0 is 0xaf63dc4c8601ec8c.
        Assert.Equal(StableHash.Mix(0xaf63dc4c8601ec8cUL), StableHash.Of("a", 0));
        Assert.Equal(StableHash.Mix(14695981039346656037UL), StableHash.Of("", 0));
    }

    [Fact]
    public void Of_String_SeedChangesHash()
    {
        Assert.NotEqual(StableHash.Of("10.0.0.1:80", 1), StableHash.Of("10.0.0.1:80", 2));
    }

    [Fact]
    public void Mix_Zero_IsZeroAndOneIsKnown()
    {
        Assert.Equal(0UL, StableHash.Mix(0));
        Assert.Equal(StableHash.Mix(1), StableHash.Mix(1));
        Assert.NotEqual(StableHash.Mix(1), StableHash.Mix(2));
    }

    [Fact]
    public void Of_Key_DependsOnBothHalves()
    {
        var a = StableHash.Of(new UInt128(1, 2));
        var b = StableHash.Of(new UInt128(2, 1));
        var c = StableHash.Of(new UInt128(1, 3));

        Assert.NotEqual(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(a, StableHash.Of(new UInt128(1, 2)));
    }

    [Fact]
    public void OfCookie_SameNameAndValue_IsDeterministicAndPinned()
    {
        // Pinned values: stick tables stored across restarts are keyed by this hash, so it must never change.
        var expected = new UInt128(0x94e09d1a466bd909UL, 0x2d83ca5cd47ccad9UL);

        Assert.Equal(expected, StableHash.OfCookie("SESSIONID", "abc123"));
        Assert.Equal(expected, StableHash.OfCookie("xSESSIONIDx".AsSpan(1, 9), "abc123".ToCharArray()));
        Assert.Equal(new UInt128(0x7563ff0f21014c11UL, 0x1bd5398f51aead44UL), StableHash.OfCookie("", ""));
    }

    [Fact]
    public void OfCookie_DifferentName_Differs()
    {
        Assert.NotEqual(StableHash.OfCookie("SESSIONID", "abc123"), StableHash.OfCookie("JSESSIONID", "abc123"));
        Assert.NotEqual(StableHash.OfCookie("SESSIONID", "abc123"), StableHash.OfCookie("sessionid", "abc123"));
    }

    [Fact]
    public void OfCookie_DifferentValue_Differs()
    {
        Assert.NotEqual(StableHash.OfCookie("SESSIONID", "abc123"), StableHash.OfCookie("SESSIONID", "abc124"));
        Assert.NotEqual(StableHash.OfCookie("SESSIONID", "abc123"), StableHash.OfCookie("SESSIONID", ""));
    }

    [Fact]
    public void OfCookie_NameAndValueSwapped_Differs()
    {
        Assert.NotEqual(StableHash.OfCookie("a", "b"), StableHash.OfCookie("b", "a"));
    }

    [Fact]
    public void OfCookie_ManyCookies_NeverZeroAndNoCollisions()
    {
        var keys = new HashSet<UInt128>();
        foreach (var name in new[] { "SESSIONID", "JSESSIONID", "PHPSESSID", "a" })
        {
            for (var i = 0; i < 5_000; i++)
            {
                var key = StableHash.OfCookie(name, i.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
                Assert.NotEqual(UInt128.Zero, key);
                keys.Add(key);
            }
        }

        Assert.Equal(20_000, keys.Count);
    }

    [Fact]
    public void OfCookie_BothHalves_VaryWithTheValue()
    {
        var a = StableHash.OfCookie("SESSIONID", "v1");
        var b = StableHash.OfCookie("SESSIONID", "v2");

        Assert.NotEqual((ulong)(a >> 64), (ulong)(b >> 64));
        Assert.NotEqual((ulong)a, (ulong)b);
    }
}

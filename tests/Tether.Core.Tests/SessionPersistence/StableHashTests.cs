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
}

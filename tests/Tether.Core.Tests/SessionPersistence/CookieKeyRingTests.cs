using Tether.Core.SessionPersistence;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.SessionPersistence;

public sealed class CookieKeyRingTests
{
    [Fact]
    public void Constructor_NoKey_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => new CookieKeyRing([]));

        Assert.Equal("keys", ex.ParamName);
    }

    [Fact]
    public void Constructor_DuplicateId_Throws()
    {
        Assert.Throws<ArgumentException>(() => new CookieKeyRing([new CookieKey(3, Secret(1)), new CookieKey(3, Secret(2))]));
    }

    [Fact]
    public void Constructor_IdZero_Throws()
    {
        Assert.Throws<ArgumentException>(() => new CookieKeyRing([new CookieKey(0, Secret(1))]));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(31)]
    public void Constructor_ShortSecret_Throws(int length)
    {
        Assert.Throws<ArgumentException>(() => new CookieKeyRing([new CookieKey(1, new byte[length])]));
    }

    [Fact]
    public void Constructor_Secret32Bytes_IsAccepted()
    {
        var ring = new CookieKeyRing([new CookieKey(255, new byte[32])]);

        Assert.Equal(255, ring.Current.Id);
    }

    [Fact]
    public void Current_IsHighestIdWhateverTheOrder()
    {
        var ring = new CookieKeyRing([new CookieKey(4, Secret(4)), new CookieKey(9, Secret(9)), new CookieKey(2, Secret(2))]);

        Assert.Equal(9, ring.Current.Id);
        Assert.Equal(Secret(9), ring.Current.Secret);
    }

    [Fact]
    public void Find_KnownAndUnknownIds()
    {
        var ring = Ring(1, 2);

        Assert.Equal(Secret(1), ring.Find(1));
        Assert.Equal(Secret(2), ring.Find(2));
        Assert.Null(ring.Find(0));
        Assert.Null(ring.Find(3));
        Assert.Null(ring.Find(255));
    }
}

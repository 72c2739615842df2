using Tether.Core.Model;
using Tether.Management.Storage;

namespace Tether.Management.Tests.Storage;

/// <summary><c>contentCaching</c> in the stored document (issue 12): additive, absent when off, so documents written
/// before it load with caching off.</summary>
public sealed class StoredContentCachingTests
{
    private static LoadBalancerConfig Config(bool caching) => new()
    {
        Id = 3,
        AccountId = 4,
        Name = "lb",
        Protocol = "HTTP",
        Port = 8080,
        Created = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
        Updated = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
        VirtualIps = [new VirtualIpConfig { Id = 1, Address = "127.0.0.1", Type = VirtualIpType.Public }],
        Nodes = [new NodeConfig { Id = 10, Address = "10.0.0.1", Port = 80 }],
        ContentCaching = caching,
    };

    [Fact]
    public void Serialize_CachingOn_RoundTrips()
    {
        var json = StoredLoadBalancer.Serialize(Config(true));

        Assert.Contains("\"contentCaching\":true", json, StringComparison.Ordinal);
        Assert.True(StoredLoadBalancer.Deserialize(json).ContentCaching);
    }

    [Fact]
    public void Deserialize_DocumentWithoutContentCaching_LoadsWithCachingOff()
    {
        var json = StoredLoadBalancer.Serialize(Config(false));
        Assert.DoesNotContain("contentCaching", json, StringComparison.Ordinal);

        Assert.False(StoredLoadBalancer.Deserialize(json).ContentCaching);
    }
}

namespace Tether.Cluster.Tests;

public sealed class ClusterStoreConnectionTests(GarnetServerFixture garnet) : IClassFixture<GarnetServerFixture>
{
    [Fact]
    public async Task ConnectAsync_GarnetOnLoopback_RoundTripsAKeyUnderThePrefix()
    {
        await using var store = await ClusterStoreConnection.ConnectAsync(garnet.Configuration, "a");
        var db = store.Multiplexer.GetDatabase();

        await db.StringSetAsync(store.Key("probe"), "1");

        Assert.True(store.IsConnected);
        Assert.Equal("1", (string?)await db.StringGetAsync("tether:probe"));
        Assert.Equal(1, (long)await db.StringIncrementAsync(store.Key("seq")));
    }
}

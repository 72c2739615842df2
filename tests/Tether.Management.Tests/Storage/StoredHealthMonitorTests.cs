using Tether.Core.Model;
using Tether.Management.Storage;

namespace Tether.Management.Tests.Storage;

/// <summary>The health monitor in the stored load balancer document.</summary>
public sealed class StoredHealthMonitorTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static LoadBalancerConfig Config(HealthMonitorConfig? monitor) => new()
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
        HealthMonitor = monitor,
    };

    [Fact]
    public void SaveThenLoadAll_EveryHealthMonitorField_RoundTrips()
    {
        var monitor = new HealthMonitorConfig
        {
            Type = HealthMonitorType.Https,
            DelaySeconds = 30,
            TimeoutSeconds = 7,
            AttemptsBeforeDeactivation = 4,
            Path = "/status?x=1",
            StatusRegex = "^200$",
            BodyRegex = "\"ok\":\\s*true",
            HostHeader = "example.com:8443",
        };
        using (var store = TetherStore.Open(_directory.Path))
        {
            store.Save(Config(monitor));
        }

        using var reopened = TetherStore.Open(_directory.Path);

        Assert.Equal(monitor, Assert.Single(reopened.LoadAll()).HealthMonitor);
    }

    [Fact]
    public void Serialize_ConnectMonitor_OmitsTheHttpFields()
    {
        var json = StoredLoadBalancer.Serialize(Config(new HealthMonitorConfig
        {
            Type = HealthMonitorType.Connect,
            DelaySeconds = 1,
            TimeoutSeconds = 1,
            AttemptsBeforeDeactivation = 1,
        }));

        Assert.Contains("\"healthMonitor\":{\"type\":\"CONNECT\",\"delaySeconds\":1,\"timeoutSeconds\":1,\"attemptsBeforeDeactivation\":1}", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_DocumentWrittenBeforeHealthMonitoring_LoadsWithoutMonitor()
    {
        var json = StoredLoadBalancer.Serialize(Config(null));
        Assert.DoesNotContain("healthMonitor", json, StringComparison.Ordinal);

        var loaded = StoredLoadBalancer.Deserialize(json);

        Assert.Null(loaded.HealthMonitor);
        Assert.Equal("lb", loaded.Name);
    }

    [Fact]
    public void Deserialize_UnknownMonitorType_Throws()
    {
        var json = StoredLoadBalancer.Serialize(Config(new HealthMonitorConfig
        {
            Type = HealthMonitorType.Connect,
            DelaySeconds = 1,
            TimeoutSeconds = 1,
            AttemptsBeforeDeactivation = 1,
        })).Replace("\"CONNECT\"", "\"PING\"", StringComparison.Ordinal);

        var error = Assert.Throws<InvalidDataException>(() => StoredLoadBalancer.Deserialize(json));
        Assert.Contains("health monitor type 'PING'", error.Message, StringComparison.Ordinal);
    }
}

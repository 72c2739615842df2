using Tether.Core.Model;
using Tether.Management.Validation;
using static Tether.Management.Tests.Validation.ValidationKit;

namespace Tether.Management.Tests.Validation;

/// <summary>The load balancer rules (LoadBalancerValidator): create defaults and ranges, listener conflicts, the
/// UDP-only refusals, and what PUT may change.</summary>
public sealed class LoadBalancerValidatorTests
{
    [Fact]
    public void ValidateCreate_NoTimeoutNoAlgorithm_GetsTheOneDefaults()
    {
        var errors = new List<string>();

        var plan = LoadBalancerValidator.ValidateCreate(LoadBalancer(CreateBody()), Context(), errors);

        Assert.Empty(errors);
        Assert.NotNull(plan);
        Assert.Equal(LoadBalancerConfig.DefaultTimeoutSeconds, plan.TimeoutSeconds);
        Assert.Equal(Existing().TimeoutSeconds, plan.TimeoutSeconds);
        Assert.Equal("RANDOM", plan.Algorithm);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(121)]
    public void ValidateCreate_TimeoutOutOfRange_IsRefused(int timeout)
    {
        var errors = new List<string>();

        var plan = LoadBalancerValidator.ValidateCreate(LoadBalancer(CreateBody($"\"timeout\":{timeout}")), Context(), errors);

        Assert.Null(plan);
        Assert.Contains(errors, e => e.StartsWith("timeout: must be from 1 to 120 seconds", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(120)]
    public void ValidateCreate_TimeoutAtTheBounds_IsKept(int timeout)
    {
        var errors = new List<string>();

        var plan = LoadBalancerValidator.ValidateCreate(LoadBalancer(CreateBody($"\"timeout\":{timeout}")), Context(), errors);

        Assert.Empty(errors);
        Assert.Equal(timeout, plan!.TimeoutSeconds);
    }

    [Fact]
    public void ValidateCreate_NoPortOnHttp_TakesTheProtocolsPort()
    {
        var errors = new List<string>();
        var body = """{"name":"a","protocol":"HTTP","virtualIps":[{"type":"PUBLIC"}],"nodes":[{"address":"10.0.0.1","port":80}]}""";

        var plan = LoadBalancerValidator.ValidateCreate(LoadBalancer(body), Context(), errors);

        Assert.Empty(errors);
        Assert.Equal(80, plan!.Port);
    }

    [Fact]
    public void ValidateCreate_NoPortOnTcp_IsRequired()
    {
        var errors = new List<string>();
        var body = """{"name":"a","protocol":"TCP","virtualIps":[{"type":"PUBLIC"}],"nodes":[{"address":"10.0.0.1","port":80}]}""";

        Assert.Null(LoadBalancerValidator.ValidateCreate(LoadBalancer(body), Context(), errors));
        Assert.Contains(errors, e => e.StartsWith("port: is required for protocol TCP", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateCreate_EveryBadField_CollectsEveryError()
    {
        var errors = new List<string>();
        var body = """{"name":"","protocol":"HTTPX","port":70000,"algorithm":"FASTEST","virtualIps":[{"type":"PUBLIC"}],"nodes":[{"address":"10.0.0.1","port":80}]}""";

        Assert.Null(LoadBalancerValidator.ValidateCreate(LoadBalancer(body), Context(), errors));
        Assert.Contains(errors, e => e.StartsWith("name: ", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("protocol: ", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("port: ", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("algorithm: ", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateCreate_SamePortOnAnOverlappingVirtualIp_IsAConflict()
    {
        var errors = new List<string>();

        var plan = LoadBalancerValidator.ValidateCreate(LoadBalancer(CreateBody(port: 80)), Context(Existing(port: 80)), errors);

        Assert.Null(plan);
        Assert.Contains(errors, e => e.StartsWith("port: 80/TCP is already used on virtual IP", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateCreate_UdpWithHealthMonitor_IsRefused()
    {
        var errors = new List<string>();
        var body = CreateBody("\"healthMonitor\":{\"type\":\"CONNECT\",\"delay\":10,\"timeout\":5,\"attemptsBeforeDeactivation\":2}", protocol: "UDP");

        Assert.Null(LoadBalancerValidator.ValidateCreate(LoadBalancer(body), Context(), errors));
        Assert.Contains(errors, e => e.StartsWith("healthMonitor: health monitoring is not available for UDP-based protocols", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateCreate_HttpsRedirect_NeedsSslTerminationFirst()
    {
        var errors = new List<string>();

        Assert.Null(LoadBalancerValidator.ValidateCreate(LoadBalancer(CreateBody("\"httpsRedirect\":true")), Context(), errors));
        Assert.Contains(errors, e => e.StartsWith("httpsRedirect: needs SSL termination", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateUpdate_NodesInTheBody_IsNotUpdatable()
    {
        var errors = new List<string>();
        var existing = Existing();

        var updated = LoadBalancerValidator.ValidateUpdate(LoadBalancer("""{"name":"b","nodes":[]}""", create: false), existing, Context(existing), errors);

        Assert.Null(updated);
        Assert.Contains(errors, e => e.StartsWith("nodes: cannot be changed by PUT", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateUpdate_NoUpdatableField_IsRefused()
    {
        var errors = new List<string>();
        var existing = Existing();

        Assert.Null(LoadBalancerValidator.ValidateUpdate(LoadBalancer("{}", create: false), existing, Context(existing), errors));
        Assert.Contains(errors, e => e.StartsWith("loadBalancer: give at least one of", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateUpdate_PortChange_DropsSessionPersistence()
    {
        var errors = new List<string>();
        var existing = Existing() with { SessionPersistence = new SessionPersistenceConfig { Type = PersistenceType.SourceIp } };

        var updated = LoadBalancerValidator.ValidateUpdate(LoadBalancer("""{"port":8081}""", create: false), existing, Context(existing), errors);

        Assert.Empty(errors);
        Assert.Equal(8081, updated!.Port);
        Assert.Null(updated.SessionPersistence);
    }

    [Fact]
    public void ValidateUpdate_TimeoutOnly_KeepsEverythingElse()
    {
        var errors = new List<string>();
        var existing = Existing() with { SessionPersistence = new SessionPersistenceConfig { Type = PersistenceType.SourceIp } };

        var updated = LoadBalancerValidator.ValidateUpdate(LoadBalancer("""{"timeout":90}""", create: false), existing, Context(existing), errors);

        Assert.Empty(errors);
        Assert.Equal(90, updated!.TimeoutSeconds);
        Assert.Equal(existing.SessionPersistence, updated.SessionPersistence);
        Assert.Equal(existing.Name, updated.Name);
    }

    [Fact]
    public void ValidateUpdate_ProtocolToUdpWithAHealthMonitor_IsRefused()
    {
        var errors = new List<string>();
        var existing = Existing() with
        {
            HealthMonitor = new HealthMonitorConfig { Type = HealthMonitorType.Connect, DelaySeconds = 10, TimeoutSeconds = 5, AttemptsBeforeDeactivation = 2 },
        };

        Assert.Null(LoadBalancerValidator.ValidateUpdate(LoadBalancer("""{"protocol":"UDP","port":53}""", create: false), existing, Context(existing), errors));
        Assert.Contains(errors, e => e.StartsWith("protocol: UDP does not fit", StringComparison.Ordinal));
    }
}

using Tether.Core.Model;

namespace Tether.Management.Validation;

/// <summary>A validated create request; the service assigns the ids.</summary>
internal sealed record LoadBalancerPlan(
    string Name,
    string Protocol,
    int Port,
    string Algorithm,
    int TimeoutSeconds,
    bool HalfClosed,
    bool HttpsRedirect,
    IReadOnlyList<VirtualIpPlan> VirtualIps,
    IReadOnlyList<NodeConfig> Nodes,
    SessionPersistenceConfig? SessionPersistence,
    IReadOnlyList<(string Key, string Value)> Metadata,
    HealthMonitorConfig? HealthMonitor = null,
    int SlowStartSeconds = 0);

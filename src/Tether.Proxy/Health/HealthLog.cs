using Microsoft.Extensions.Logging;

namespace Tether.Proxy.Health;

/// <summary>Structured log messages of health monitoring, with stable event ids (1200-1299).</summary>
internal static partial class HealthLog
{
    [LoggerMessage(EventId = 1210, Level = LogLevel.Warning, Message = "Load balancer {LoadBalancerId}: node {NodeId} is unavailable: {Detail}")]
    public static partial void NodeAddressUnresolved(ILogger logger, int loadBalancerId, int nodeId, string detail);

    [LoggerMessage(EventId = 1200, Level = LogLevel.Warning, Message = "Load balancer {LoadBalancerId}: node {NodeId} ({EndPoint}) is OFFLINE after {Failures} failed probes in a row: {Detail}")]
    public static partial void NodeOffline(ILogger logger, int loadBalancerId, int nodeId, System.Net.IPEndPoint endPoint, int failures, string detail);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Load balancer {LoadBalancerId}: node {NodeId} is ONLINE: {Detail}")]
    public static partial void NodeOnline(ILogger logger, int loadBalancerId, int nodeId, string detail);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Load balancer {LoadBalancerId}: {Type} health monitor started (delay {DelaySeconds} s, timeout {TimeoutSeconds} s, {Attempts} attempts before deactivation)")]
    public static partial void MonitorStarted(ILogger logger, int loadBalancerId, string type, int delaySeconds, int timeoutSeconds, int attempts);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "Load balancer {LoadBalancerId}: health monitor stopped")]
    public static partial void MonitorStopped(ILogger logger, int loadBalancerId);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Debug, Message = "Load balancer {LoadBalancerId}: probe of node {NodeId} failed ({Failures} in a row): {Detail}")]
    public static partial void ProbeFailed(ILogger logger, int loadBalancerId, int nodeId, int failures, string detail);

    [LoggerMessage(EventId = 1205, Level = LogLevel.Error, Message = "Load balancer {LoadBalancerId}: the health monitor stopped on an unexpected error")]
    public static partial void MonitorFailed(ILogger logger, int loadBalancerId, Exception exception);
}

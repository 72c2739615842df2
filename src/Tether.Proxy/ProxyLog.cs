using Microsoft.Extensions.Logging;

namespace Tether.Proxy;

/// <summary>Structured log messages of the data plane, with stable event ids (1000-1099).</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Load balancer {LoadBalancerId}: listening on {EndPoint}")]
    public static partial void ListenerStarted(ILogger logger, int loadBalancerId, System.Net.IPEndPoint endPoint);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Load balancer {LoadBalancerId}: listener failed: {Reason}")]
    public static partial void ListenerFailed(ILogger logger, int loadBalancerId, string reason);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Load balancer {LoadBalancerId}: stopped listening on {EndPoint}")]
    public static partial void ListenerStopped(ILogger logger, int loadBalancerId, System.Net.IPEndPoint endPoint);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Load balancer {LoadBalancerId}: stopping the listener on {EndPoint} failed")]
    public static partial void ListenerStopFailed(ILogger logger, int loadBalancerId, System.Net.IPEndPoint endPoint, Exception exception);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Load balancer {LoadBalancerId}: configuration applied ({NodeCount} nodes, {Algorithm})")]
    public static partial void ConfigApplied(ILogger logger, int loadBalancerId, int nodeCount, string algorithm);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "Load balancer {LoadBalancerId}: removed")]
    public static partial void Removed(ILogger logger, int loadBalancerId);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Load balancer {LoadBalancerId}: {Count} persisted sessions restored")]
    public static partial void StickTableLoaded(ILogger logger, int loadBalancerId, int count);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "Load balancer {LoadBalancerId}: storing or loading persisted sessions failed")]
    public static partial void StickTableSaveFailed(ILogger logger, int loadBalancerId, Exception exception);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Information, Message = "Cookie signing keys reloaded: key {KeyId} signs new cookies, {Count} keys validate")]
    public static partial void CookieKeysReloaded(ILogger logger, int keyId, int count);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "Reading the cookie signing keys failed; the current keys stay in use")]
    public static partial void CookieKeysReloadFailed(ILogger logger, Exception exception);

    // Tether's own 502/503/504 answers, written through Http.GatewayErrorLog (rate-limited).
    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Load balancer {LoadBalancerId}: answered 502 Bad Gateway ({Reason}), node {NodeId} ({Node}); {Count} such answers since the last such line")]
    public static partial void BadGatewayAnswered(ILogger logger, int loadBalancerId, string reason, string nodeId, string node, long count);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Load balancer {LoadBalancerId}: answered 503 Service Unavailable ({Reason}), node {NodeId} ({Node}); {Count} such answers since the last such line")]
    public static partial void ServiceUnavailableAnswered(ILogger logger, int loadBalancerId, string reason, string nodeId, string node, long count);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Warning, Message = "Load balancer {LoadBalancerId}: answered 504 Gateway Timeout ({Reason}), node {NodeId} ({Node}); {Count} such answers since the last such line")]
    public static partial void GatewayTimeoutAnswered(ILogger logger, int loadBalancerId, string reason, string nodeId, string node, long count);
}

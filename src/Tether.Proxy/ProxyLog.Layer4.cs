using System.Net;
using Microsoft.Extensions.Logging;
using Tether.Core.Runtime;

namespace Tether.Proxy;

/// <summary>Structured log messages of the layer 4 data plane (TCP and UDP), with stable event ids (1100-1199).</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Debug, Message = "Load balancer {LoadBalancerId}: TCP connection from {Client} closed: no node ({Outcome})")]
    public static partial void TcpNoNode(ILogger logger, int loadBalancerId, EndPoint? client, SelectionOutcome outcome);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Load balancer {LoadBalancerId}: node {NodeId} ({Node}) did not accept a TCP connection: {Reason}")]
    public static partial void TcpConnectFailed(ILogger logger, int loadBalancerId, int nodeId, IPEndPoint node, string reason);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Debug, Message = "Load balancer {LoadBalancerId}: TCP connection from {Client} to node {NodeId} closed after {IdleSeconds} s idle")]
    public static partial void TcpIdleTimeout(ILogger logger, int loadBalancerId, EndPoint? client, int nodeId, int idleSeconds);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Error, Message = "Load balancer {LoadBalancerId}: TCP connection from {Client} failed unexpectedly")]
    public static partial void TcpConnectionError(ILogger logger, int loadBalancerId, EndPoint? client, Exception exception);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Information, Message = "Load balancer {LoadBalancerId}: {Count} TCP connections on {EndPoint} did not finish within {Seconds} s and were aborted")]
    public static partial void TcpConnectionsAborted(ILogger logger, int loadBalancerId, int count, IPEndPoint endPoint, int seconds);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Error, Message = "Load balancer {LoadBalancerId}: accepting TCP connections on {EndPoint} failed")]
    public static partial void TcpAcceptFailed(ILogger logger, int loadBalancerId, IPEndPoint endPoint, Exception exception);

    [LoggerMessage(EventId = 1120, Level = LogLevel.Debug, Message = "Load balancer {LoadBalancerId}: UDP datagram from {Client} dropped: no node ({Outcome})")]
    public static partial void UdpNoNode(ILogger logger, int loadBalancerId, EndPoint client, SelectionOutcome outcome);

    [LoggerMessage(EventId = 1121, Level = LogLevel.Debug, Message = "Load balancer {LoadBalancerId}: a UDP datagram on {EndPoint} was dropped: the flow limit ({Limit}) is reached")]
    public static partial void UdpFlowLimit(ILogger logger, int loadBalancerId, IPEndPoint endPoint, int limit);

    [LoggerMessage(EventId = 1122, Level = LogLevel.Warning, Message = "Load balancer {LoadBalancerId}: node {NodeId} ({Node}) refused UDP datagrams (ICMP port unreachable)")]
    public static partial void UdpNodeRefused(ILogger logger, int loadBalancerId, int nodeId, IPEndPoint node);

    [LoggerMessage(EventId = 1123, Level = LogLevel.Warning, Message = "Load balancer {LoadBalancerId}: UDP flow from {Client} to node {NodeId} failed")]
    public static partial void UdpFlowError(ILogger logger, int loadBalancerId, EndPoint client, int nodeId, Exception exception);

    [LoggerMessage(EventId = 1124, Level = LogLevel.Error, Message = "Load balancer {LoadBalancerId}: receiving UDP datagrams on {EndPoint} failed")]
    public static partial void UdpReceiveFailed(ILogger logger, int loadBalancerId, IPEndPoint endPoint, Exception exception);

    [LoggerMessage(EventId = 1125, Level = LogLevel.Warning, Message = "Load balancer {LoadBalancerId}: UDP datagram from {Client} dropped: cannot open a socket to node {NodeId}")]
    public static partial void UdpFlowOpenFailed(ILogger logger, int loadBalancerId, EndPoint client, int nodeId, Exception exception);

    [LoggerMessage(EventId = 1140, Level = LogLevel.Error, Message = "Load balancer {LoadBalancerId}: the previous listener on {EndPoint} could not be bound again after a failed change; the load balancer does not listen there")]
    public static partial void ListenerRestoreFailed(ILogger logger, int loadBalancerId, IPEndPoint endPoint, Exception exception);
}

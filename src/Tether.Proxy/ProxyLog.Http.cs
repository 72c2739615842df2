using Microsoft.Extensions.Logging;

namespace Tether.Proxy;

/// <summary>Log messages of the HTTP data path (event ids 1400-1499).</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(EventId = 1400, Level = LogLevel.Warning, Message = "Load balancer {LoadBalancerId}: no connection to node {NodeId} could be opened ({Reason}); {Count} requests answered 503 since the last such line")]
    public static partial void NoNodeConnection(ILogger logger, int loadBalancerId, int nodeId, string reason, long count);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Warning, Message = "The data plane holds {Limit} connections (Proxy:MaxOpenConnections, from the open file limit): new client and node connections are refused; {Refused} refused since start")]
    public static partial void ConnectionBudgetSpent(ILogger logger, int limit, long refused);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Information, Message = "Open file limit: {Soft} (hard limit {Hard}){Change}")]
    public static partial void FileLimit(ILogger logger, ulong soft, ulong hard, string change);
}

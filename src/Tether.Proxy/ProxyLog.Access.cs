using Microsoft.Extensions.Logging;

namespace Tether.Proxy;

/// <summary>Log messages of access control and connection logging (event ids 1300-1399).</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(EventId = 1300, Level = LogLevel.Error, Message = "Load balancer {LoadBalancerId}: writing the connection log to {Path} failed; lines are retried after a pause")]
    public static partial void AccessLogWriteFailed(ILogger logger, int loadBalancerId, string path, Exception exception);
}

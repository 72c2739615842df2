using Microsoft.Extensions.Logging;

namespace Tether.Management;

/// <summary>The management side's log messages, with stable event ids (1000..1099).</summary>
internal static partial class ManagementLog
{
    [LoggerMessage(3000, LogLevel.Warning,
        "No API token is configured or stored: created an admin token for account 1 in {Path} (readable by this user only). Send it as the X-Auth-Token header.")]
    public static partial void AdminTokenCreated(ILogger logger, string path);

    [LoggerMessage(3001, LogLevel.Information, "Restored load balancer {Id} ({Protocol} port {Port}).")]
    public static partial void Restored(ILogger logger, int id, string protocol, int port);

    [LoggerMessage(3002, LogLevel.Error, "Load balancer {Id} could not be restored and is now in status ERROR: {Reason}")]
    public static partial void RestoreFailed(ILogger logger, Exception exception, int id, string reason);

    [LoggerMessage(3003, LogLevel.Information, "Load balancer {Id} has status {Status} and was not started.")]
    public static partial void RestoreSkipped(ILogger logger, int id, string status);

    [LoggerMessage(3004, LogLevel.Warning, "Load balancer {Id}: a listener could not be bound; nothing changed: {Reason}")]
    public static partial void BindRejected(ILogger logger, int id, string reason);

    [LoggerMessage(3005, LogLevel.Error, "Load balancer {Id}: the data plane failed to apply a change; reverting.")]
    public static partial void ApplyFailed(ILogger logger, Exception exception, int id);

    [LoggerMessage(3006, LogLevel.Error, "Load balancer {Id}: the store write failed after the data plane applied the change; reverting the data plane.")]
    public static partial void StoreFailed(ILogger logger, Exception exception, int id);

    [LoggerMessage(3007, LogLevel.Critical, "Load balancer {Id}: reverting the data plane failed; the live configuration may differ from the stored one until restart.")]
    public static partial void RevertFailed(ILogger logger, Exception exception, int id);

    [LoggerMessage(3008, LogLevel.Error, "Load balancer {Id}: its new status could not be stored.")]
    public static partial void StatusStoreFailed(ILogger logger, Exception exception, int id);

    [LoggerMessage(3009, LogLevel.Error, "Unhandled error in {Method} {Path}.")]
    public static partial void UnhandledError(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(3010, LogLevel.Information, "Load balancer {Id}: {Method} {Resource} by token {TokenId} (account {AccountId}): {Changes}")]
    public static partial void ConfigurationChanged(ILogger logger, int id, string method, string resource, string tokenId, int accountId, string changes);

    [LoggerMessage(3060, LogLevel.Information, "Refused {Method} {Resource} by token {TokenId} (role {Role}, account {AccountId}): it needs the role {Needed} (403, nothing changed).")]
    public static partial void RoleRefused(ILogger logger, string tokenId, string role, int accountId, string method, string resource, string needed);

    [LoggerMessage(3050, LogLevel.Error, "Usage: the poll failed; the next poll tries again (the traffic since the last stored poll is kept in the counters).")]
    public static partial void UsagePollFailed(ILogger logger, Exception exception);

    [LoggerMessage(3051, LogLevel.Information, "Usage: deleted {Count} usage records older than {Days} days (Management:UsageRetentionDays).")]
    public static partial void UsagePurged(ILogger logger, int count, int days);

    [LoggerMessage(3070, LogLevel.Information, "Load balancer {Id}: removed by a change made through another instance (cluster resync).")]
    public static partial void ResyncRemoved(ILogger logger, int id);

    [LoggerMessage(3071, LogLevel.Warning, "Cluster mode: a change could not be kept in the local store (the last known configuration); the shared store has it.")]
    public static partial void LocalMirrorFailed(ILogger logger, Exception exception);

    [LoggerMessage(3072, LogLevel.Warning, "Readiness: the check {Check} threw; /healthz answers not ready until it passes.")]
    public static partial void ReadinessCheckFailed(ILogger logger, Exception exception, string check);

    [LoggerMessage(3073, LogLevel.Warning, "No API token exists and the cluster store is unavailable: no admin token was created ({Reason}). Restart once Redis answers, or create one with tether token create.")]
    public static partial void AdminTokenDeferred(ILogger logger, string reason);
}

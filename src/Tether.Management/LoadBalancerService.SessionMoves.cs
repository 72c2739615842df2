using Tether.Core.Model;

namespace Tether.Management;

/// <summary>The audit of the persistence API's session moves (POST <c>.../sessionpersistence/sessions/move</c>).</summary>
public sealed partial class LoadBalancerService
{
    /// <summary>
    /// Records a session move in the audit log: no configuration field changes, so the entry has no changes and one
    /// note (<paramref name="note"/>: which nodes, which share, how many sessions moved). A failure to record it is
    /// logged only: the move already took effect and the caller gets its answer.
    /// </summary>
    internal void AuditSessionMove(LoadBalancerConfig config, string note)
    {
        var actor = Audit.AuditActor.Current;
        var entry = new Audit.AuditEntry(0, config.AccountId, _time.GetUtcNow(), actor?.TokenId ?? "-", actor?.Method ?? "-",
            actor?.Resource ?? $"/loadbalancers/{config.Id}/sessionpersistence/sessions/move", actor?.Action ?? "create", config.Id,
            [], [note], "applied");
        try
        {
            _local.AppendAudit(entry);
        }
        catch (Exception ex)
        {
            ManagementLog.StoreFailed(_logger, ex, config.Id);
            return;
        }

        LogChange(entry);
    }
}

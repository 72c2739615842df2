using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Tether.Core;
using Tether.Core.Model;
using Tether.Management.Api;
using Tether.Management.Requests;
using Tether.Management.Storage;
using Tether.Management.Validation;

namespace Tether.Management;

/// <summary>
/// Owns the load balancer configurations: an in-memory copy of every stored configuration, kept in step with the
/// store and the data plane. Mutations are serialized (one at a time) and each is applied as: validate, build the new
/// <see cref="LoadBalancerConfig"/>, apply it to the <see cref="IDataPlane"/>, write the store in one transaction,
/// then publish the new in-memory copy. A listener that cannot be bound (<see cref="ListenerBindException"/>) is a 400
/// and changes nothing; a store failure after the data plane applied the change reverts the data plane and is a 500.
/// </summary>
public sealed partial class LoadBalancerService : IDisposable
{
    private readonly TetherStore _store;
    private readonly IDataPlane _dataPlane;
    private readonly TimeProvider _time;
    private readonly ManagementOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile ImmutableSortedDictionary<int, LoadBalancerConfig> _configs;

    internal LoadBalancerService(TetherStore store, IDataPlane dataPlane, TimeProvider time, ManagementOptions options,
        ILogger<LoadBalancerService> logger)
    {
        _store = store;
        _dataPlane = dataPlane;
        _time = time;
        _options = options;
        _logger = logger;
        _configs = store.LoadAll().ToImmutableSortedDictionary(c => c.Id, c => c);
    }

    /// <summary>The management settings (for representations that show configuration, such as
    /// <c>sourceAddresses</c>).</summary>
    internal ManagementOptions Options => _options;

    /// <summary>
    /// Start-up: applies every stored load balancer whose status is ACTIVE or ERROR to the data plane. One whose
    /// listener cannot be bound (or that the data plane otherwise rejects) gets status ERROR, which is logged and
    /// stored, and the others still start; one that was ERROR and now applies is ACTIVE again. Load balancers with any
    /// other status (for example SUSPENDED) are not started. Call once, before the API serves requests.
    /// </summary>
    /// <param name="cancellationToken">Cancels the restore between load balancers.</param>
    public async Task RestoreAllAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            foreach (var config in _configs.Values)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (config.Status is not (LoadBalancerStatus.Active or LoadBalancerStatus.Error))
                {
                    ManagementLog.RestoreSkipped(_logger, config.Id, config.Status);
                    continue;
                }

                var live = config with { Status = LoadBalancerStatus.Active };
                string status;
                try
                {
                    await _dataPlane.ApplyAsync(live, cancellationToken);
                    status = LoadBalancerStatus.Active;
                    ManagementLog.Restored(_logger, config.Id, config.Protocol, config.Port);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    status = LoadBalancerStatus.Error;
                    ManagementLog.RestoreFailed(_logger, ex, config.Id, ex.Message);
                }

                if (status != config.Status)
                {
                    var updated = config with { Status = status };
                    try
                    {
                        _store.Save(updated);
                    }
                    catch (Exception ex)
                    {
                        ManagementLog.StatusStoreFailed(_logger, ex, config.Id);
                    }

                    _configs = _configs.SetItem(config.Id, updated);
                }
            }

            Restored = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>True once <see cref="RestoreAllAsync"/> has given every stored load balancer to the data plane (the
    /// readiness check of <c>GET /healthz</c>).</summary>
    public bool Restored { get; private set; }

    /// <summary>Every load balancer of every account, ordered by id (the current in-memory copy).</summary>
    public IReadOnlyList<LoadBalancerConfig> All => [.. _configs.Values];

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _gate.Dispose();

    internal IReadOnlyList<LoadBalancerConfig> List(int accountId) =>
        [.. _configs.Values.Where(c => c.AccountId == accountId)];

    internal LoadBalancerConfig? Find(int accountId, int id) =>
        _configs.TryGetValue(id, out var config) && config.AccountId == accountId ? config : null;

    internal async Task<Outcome<LoadBalancerConfig>> CreateAsync(int accountId, LoadBalancerRequest request,
        CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var errors = new List<string>(request.Issues.Messages);
            var plan = LoadBalancerValidator.ValidateCreate(request, Context(accountId), errors);
            var (accessList, throttle) = ValidateAccessControlAtCreation(request, errors);
            ValidateContentCachingAtCreation(request, errors);
            if (plan is null || errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            if (accessList.Count > AccessControlValidator.AccessListLimit)
            {
                return new ApiError(413, $"Access list limit reached: an access list may hold at most {AccessControlValidator.AccessListLimit} network items (ACCESS_LIST_LIMIT; {accessList.Count} were given).");
            }

            if (_configs.Values.Count(c => c.AccountId == accountId) >= Limits.LoadBalancerLimit)
            {
                return new ApiError(413,
                    $"Load balancer limit reached: an account may hold at most {Limits.LoadBalancerLimit} load balancers.");
            }

            if (plan.Nodes.Count > Limits.NodeLimit)
            {
                return NodeLimitExceeded();
            }

            if (plan.Metadata.Count > Limits.LoadBalancerMetaLimit)
            {
                return MetaLimitExceeded("a load balancer", Limits.LoadBalancerMetaLimit, "LOADBALANCER_META_LIMIT", 0, plan.Metadata.Count);
            }

            if (NodeMetaOverLimit(plan.Nodes) is { } nodeMetaOverLimit)
            {
                return nodeMetaOverLimit;
            }

            var id = _store.NextIds(Sequences.LoadBalancer);
            var vips = plan.VirtualIps.Select(v => v.Shared ?? new VirtualIpConfig
            {
                Id = _store.NextIds(Sequences.VirtualIp),
                Address = v.Address,
                Type = v.Type,
                IpVersion = v.IpVersion,
            }).ToImmutableArray();
            var firstNode = _store.NextIds(Sequences.Node, plan.Nodes.Count);
            var firstMeta = plan.Metadata.Count > 0 ? _store.NextIds(Sequences.Metadata, plan.Metadata.Count) : 0;
            var nodes = WithNodeMetadataIds(plan.Nodes);
            var firstItem = accessList.Count > 0 ? _store.NextIds(Sequences.AccessList, accessList.Count) : 0;
            var now = Now();
            var config = new LoadBalancerConfig
            {
                Id = id,
                AccountId = accountId,
                Name = plan.Name,
                Protocol = plan.Protocol,
                Port = plan.Port,
                Algorithm = plan.Algorithm,
                TimeoutSeconds = plan.TimeoutSeconds,
                HalfClosed = plan.HalfClosed,
                SlowStartSeconds = plan.SlowStartSeconds,
                HttpsRedirect = plan.HttpsRedirect,
                Status = LoadBalancerStatus.Active,
                Created = now,
                Updated = now,
                VirtualIps = vips,
                Nodes = [.. nodes.Select((n, i) => n with { Id = firstNode + i })],
                SessionPersistence = plan.SessionPersistence,
                HealthMonitor = plan.HealthMonitor,
                Metadata = [.. plan.Metadata.Select((m, i) => new MetadataItem(firstMeta + i, m.Key, m.Value))],
                AccessList = [.. accessList.Select((item, i) => item with { Id = firstItem + i })],
                ConnectionThrottle = throttle,
                ConnectionLogging = request.ConnectionLogging ?? false,
                ContentCaching = request.ContentCaching ?? false,
            };

            var error = await CommitAsync(null, config);
            return error is null ? config : error;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The <c>accessList</c> and <c>connectionThrottle</c> of a create body (Rackspace accepts both at
    /// creation; pkgcloud, pyrax and jclouds send them), with the rules of their own resources; neither is available
    /// on UDP-based load balancers. Errors are added to <paramref name="errors"/>.</summary>
    private static (IReadOnlyList<AccessListItem> AccessList, ConnectionThrottleConfig? Throttle) ValidateAccessControlAtCreation(
        LoadBalancerRequest request, List<string> errors)
    {
        var udp = request.Protocol is { } protocol && ValidationRules.IsUdp(protocol);
        IReadOnlyList<AccessListItem> items = [];
        if (request.AccessList is { } list)
        {
            if (udp)
            {
                errors.Add($"accessList: access lists are not available for UDP-based protocols (DNS_UDP, UDP, UDP_STREAM); this load balancer is {request.Protocol}");
            }
            else if (list.GetArrayLength() > 0)
            {
                items = AccessControlValidator.ValidateNewItems(list, [], errors) ?? [];
            }
        }

        ConnectionThrottleConfig? throttle = null;
        if (request.ConnectionThrottle is { } element)
        {
            if (udp)
            {
                errors.Add($"connectionThrottle: connection throttling is not available for UDP-based protocols (DNS_UDP, UDP, UDP_STREAM); this load balancer is {request.Protocol}");
            }
            else
            {
                throttle = AccessControlValidator.ValidateThrottle(new FieldReader(element, "connectionThrottle", new ReadIssues()), null, errors);
            }
        }

        return (items, throttle);
    }

    internal Task<Outcome<LoadBalancerConfig>> UpdateAsync(int accountId, int id, LoadBalancerRequest request,
        CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            var errors = new List<string>(request.Issues.Messages);
            var next = LoadBalancerValidator.ValidateUpdate(request, existing, Context(accountId), errors);
            return next is null || errors.Count > 0 ? ApiError.Validation(errors) : Change(next, next);
        }, cancellationToken);

    /// <summary>Deletes load balancers, all or nothing: each id must be one of the account's (404 otherwise) and
    /// mutable (422 otherwise).</summary>
    internal async Task<ApiError?> DeleteAsync(int accountId, IReadOnlyCollection<int> ids, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var targets = new List<LoadBalancerConfig>();
            var missing = new List<int>();
            foreach (var id in ids.Distinct())
            {
                if (Find(accountId, id) is { } config)
                {
                    targets.Add(config);
                }
                else
                {
                    missing.Add(id);
                }
            }

            if (missing.Count > 0)
            {
                return BulkIds.NotFound(ids.Count, missing, ApiError.LoadBalancerNotFound);
            }

            if (targets.FirstOrDefault(t => !IsMutable(t)) is { } immutable)
            {
                return ApiError.Immutable(immutable.Id, immutable.Status);
            }

            var removed = new List<LoadBalancerConfig>();
            try
            {
                foreach (var target in targets)
                {
                    await _dataPlane.RemoveAsync(target.Id, CancellationToken.None);
                    removed.Add(target);
                }
            }
            catch (Exception ex)
            {
                ManagementLog.ApplyFailed(_logger, ex, targets[removed.Count].Id);
                await ReapplyAsync(removed);
                return ApiError.Internal;
            }

            var audits = targets.Select(t => NewAudit(t, null)).ToList();
            try
            {
                _store.Delete(audits, [.. targets.Select(t => t.Id)]);
            }
            catch (Exception ex)
            {
                ManagementLog.StoreFailed(_logger, ex, targets[0].Id);
                await ReapplyAsync(removed);
                return ApiError.Internal;
            }

            _configs = _configs.RemoveRange(targets.Select(t => t.Id));
            foreach (var audit in audits)
            {
                LogChange(audit);
            }

            return null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Adds nodes (POST <c>/nodes</c>) and returns the created ones.</summary>
    internal Task<Outcome<IReadOnlyList<NodeConfig>>> AddNodesAsync(int accountId, int id, IReadOnlyList<NodeRequest> nodes,
        ReadIssues issues, CancellationToken cancellationToken) =>
        MutateAsync<IReadOnlyList<NodeConfig>>(accountId, id, existing =>
        {
            var errors = new List<string>(issues.Messages);
            var added = NodeValidator.ValidateNew(nodes, existing.Nodes, errors, "nodes", _options.AllowedDomains);
            if (added is null || errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            if (existing.Nodes.Length + added.Count > Limits.NodeLimit)
            {
                return NodeLimitExceeded();
            }

            if (NodeMetaOverLimit(added) is { } nodeMetaOverLimit)
            {
                return nodeMetaOverLimit;
            }

            var first = _store.NextIds(Sequences.Node, added.Count);
            IReadOnlyList<NodeConfig> created = [.. WithNodeMetadataIds(added).Select((n, i) => n with { Id = first + i })];
            return Change(existing with { Nodes = existing.Nodes.AddRange(created) }, created);
        }, cancellationToken);

    internal Task<Outcome<LoadBalancerConfig>> UpdateNodeAsync(int accountId, int id, int nodeId, NodeRequest request,
        CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            var index = -1;
            for (var i = 0; i < existing.Nodes.Length; i++)
            {
                if (existing.Nodes[i].Id == nodeId)
                {
                    index = i;
                    break;
                }
            }

            if (index < 0)
            {
                return ApiError.NodeNotFound;
            }

            var errors = new List<string>(request.Issues.Messages);
            var node = NodeValidator.ValidateUpdate(request, existing.Nodes[index], errors);
            if (node is null || errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            var next = existing with { Nodes = existing.Nodes.SetItem(index, node) };
            return Change(next, next);
        }, cancellationToken);

    /// <summary>Deletes nodes, all or nothing: each must exist (404), and the load balancer must keep at least one
    /// node (400, as Rackspace).</summary>
    internal Task<Outcome<LoadBalancerConfig>> DeleteNodesAsync(int accountId, int id, IReadOnlyCollection<int> nodeIds,
        CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            var wanted = nodeIds.ToHashSet();
            if (BulkIds.Check(nodeIds, n => existing.Nodes.Any(node => node.Id == n), ApiError.NodeNotFound) is { } missing)
            {
                return missing;
            }

            var remaining = existing.Nodes.RemoveAll(n => wanted.Contains(n.Id));
            if (remaining.IsEmpty)
            {
                return ApiError.Validation(
                    "nodes: a load balancer must keep at least one node; delete the load balancer instead, or add a node first");
            }

            var next = existing with { Nodes = remaining };
            return Change(next, next);
        }, cancellationToken);

    internal Task<Outcome<LoadBalancerConfig>> SetSessionPersistenceAsync(int accountId, int id,
        SessionPersistenceRequest request, CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            var errors = new List<string>(request.Issues.Messages);
            var persistence = SessionPersistenceValidator.Validate(request, existing.Protocol, errors);
            if (persistence is null || errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            var next = existing with { SessionPersistence = persistence };
            return Change(next, next);
        }, cancellationToken);

    /// <summary>Disables session persistence; 422 when it is already disabled (seed 000).</summary>
    internal Task<Outcome<LoadBalancerConfig>> DisableSessionPersistenceAsync(int accountId, int id,
        CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            if (existing.SessionPersistence is null)
            {
                return new ApiError(422, $"Session persistence is already disabled on Load Balancer '{id}'.");
            }

            var next = existing with { SessionPersistence = null };
            return Change(next, next);
        }, cancellationToken);

    /// <summary>Sets (replaces) the health monitor (PUT <c>/healthmonitor</c>).</summary>
    internal Task<Outcome<LoadBalancerConfig>> SetHealthMonitorAsync(int accountId, int id, HealthMonitorRequest request,
        CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            var errors = new List<string>(request.Issues.Messages);
            var monitor = HealthMonitorValidator.Validate(request, existing.Protocol, errors);
            if (monitor is null || errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            var next = existing with { HealthMonitor = monitor };
            return Change(next, next);
        }, cancellationToken);

    /// <summary>Removes the health monitor: every node is ONLINE again. 422 when there is none (Rackspace: "No health
    /// monitor found to delete.").</summary>
    internal Task<Outcome<LoadBalancerConfig>> DeleteHealthMonitorAsync(int accountId, int id,
        CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            if (existing.HealthMonitor is null)
            {
                return new ApiError(422, $"No health monitor found to delete on Load Balancer '{id}'.");
            }

            var next = existing with { HealthMonitor = null };
            return Change(next, next);
        }, cancellationToken);

    private static Outcome<(LoadBalancerConfig Next, T Result)> Change<T>(LoadBalancerConfig next, T result) => (next, result);

    private static ApiError NodeLimitExceeded() =>
        new(413, $"Node limit reached: a load balancer may hold at most {Limits.NodeLimit} nodes.");

    /// <summary>A change to one existing load balancer: 404 when it is not the account's, 422 when it is not
    /// mutable, then <paramref name="change"/> (validation) and the commit.</summary>
    private async Task<Outcome<T>> MutateAsync<T>(int accountId, int id,
        Func<LoadBalancerConfig, Outcome<(LoadBalancerConfig Next, T Result)>> change, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (Find(accountId, id) is not { } existing)
            {
                return ApiError.LoadBalancerNotFound;
            }

            if (!IsMutable(existing))
            {
                return ApiError.Immutable(existing.Id, existing.Status);
            }

            var planned = change(existing);
            if (planned.Error is { } invalid)
            {
                return invalid;
            }

            var (next, result) = planned.Value;
            next = next with { Status = LoadBalancerStatus.Active, Updated = Now() };
            var error = await CommitAsync(existing, next);
            return error is null ? result : error;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Applies <paramref name="next"/> to the data plane, then the store, then the in-memory copy; reverts
    /// the data plane when the store write fails.</summary>
    private async Task<ApiError?> CommitAsync(LoadBalancerConfig? previous, LoadBalancerConfig next)
    {
        next = DrainingStamp.Apply(previous, next, Now());
        // Once started, a change runs to its end: a client that goes away must not leave it half done.
        try
        {
            await _dataPlane.ApplyAsync(next, CancellationToken.None);
        }
        catch (ListenerBindException ex)
        {
            ManagementLog.BindRejected(_logger, next.Id, ex.Message);
            return ApiError.Validation(ex.Message);
        }
        catch (Exception ex)
        {
            ManagementLog.ApplyFailed(_logger, ex, next.Id);
            await RevertAsync(previous, next.Id);
            AuditFailure(previous, next, "the data plane failed to apply the change");
            return ApiError.Internal;
        }

        var audit = NewAudit(previous, next);
        try
        {
            _store.Save(audit, next);
        }
        catch (Exception ex)
        {
            ManagementLog.StoreFailed(_logger, ex, next.Id);
            await RevertAsync(previous, next.Id);
            AuditFailure(previous, next, "the store write failed");
            return ApiError.Internal;
        }

        _configs = _configs.SetItem(next.Id, next);
        LogChange(audit);
        return null;
    }

    /// <summary>The audit entry of a change of one load balancer from <paramref name="before"/> to
    /// <paramref name="after"/> (null: created or deleted), by the caller of the API call being served.</summary>
    private Audit.AuditEntry NewAudit(LoadBalancerConfig? before, LoadBalancerConfig? after, string outcome = "applied")
    {
        var config = after ?? before!;
        var actor = Audit.AuditActor.Current;
        var resource = actor?.Resource ?? $"/loadbalancers/{config.Id}";
        return new Audit.AuditEntry(0, config.AccountId, _time.GetUtcNow(), actor?.TokenId ?? "-", actor?.Method ?? "-", resource,
            actor?.Action ?? (before is null ? "create" : after is null ? "delete" : "update"), config.Id,
            Audit.AuditDiff.Compute(before, after), Audit.AuditDiff.Notes(before, after, resource), outcome);
    }

    /// <summary>One log line per change: who (token id, account) and what (resource, fields, side effects).</summary>
    private void LogChange(Audit.AuditEntry audit) =>
        ManagementLog.ConfigurationChanged(_logger, audit.LoadBalancerId, audit.Method, audit.Resource, audit.TokenId, audit.AccountId,
            audit.Summary());

    /// <summary>Records a change that failed after validation (it changed nothing); a failure to record it is logged
    /// only.</summary>
    private void AuditFailure(LoadBalancerConfig? before, LoadBalancerConfig after, string reason)
    {
        try
        {
            _store.AppendAudit(NewAudit(before, after, $"failed: {reason}; nothing changed"));
        }
        catch (Exception ex)
        {
            ManagementLog.StoreFailed(_logger, ex, after.Id);
        }
    }

    private async Task RevertAsync(LoadBalancerConfig? previous, int id)
    {
        try
        {
            if (previous is null || previous.Status != LoadBalancerStatus.Active)
            {
                // A new load balancer, or one that was not live (ERROR): it goes back to not being served.
                await _dataPlane.RemoveAsync(id, CancellationToken.None);
            }
            else
            {
                await _dataPlane.ApplyAsync(previous, CancellationToken.None);
            }
        }
        catch (Exception ex)
        {
            ManagementLog.RevertFailed(_logger, ex, id);
        }
    }

    private async Task ReapplyAsync(IEnumerable<LoadBalancerConfig> removed)
    {
        foreach (var config in removed.Where(c => c.Status == LoadBalancerStatus.Active))
        {
            await RevertAsync(config, config.Id);
        }
    }

    private static bool IsMutable(LoadBalancerConfig config) =>
        config.Status is LoadBalancerStatus.Active or LoadBalancerStatus.Error;

    private ValidationContext Context(int accountId) => new(accountId, _configs.Values.ToList(), _options);

    private DateTimeOffset Now()
    {
        var now = _time.GetUtcNow();
        return new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
    }
}

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Tether.Management;
using Tether.Management.Storage;

namespace Tether.Cluster;

/// <summary>
/// Keeps one instance's configuration in step with the cluster store (issue 14): reloads when the revision published
/// on the revision channel, or read every <see cref="PollInterval"/> (pub/sub loses messages across reconnects), is
/// not the one applied, and at once after a reconnect. A reload goes through
/// <see cref="LoadBalancerService.ResyncAsync"/>, the start-up path, and is then kept in the local SQLite store (the
/// last known configuration, for a start while Redis is away). Also watches the connection: a log event and
/// <see cref="StoreUp"/> (the <c>tether_cluster_store_up</c> gauge) on each change.
/// </summary>
public sealed class ClusterConfigurationSync : BackgroundService
{
    /// <summary>How often the revision is read (250 milliseconds): a change is live everywhere within about this.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    private readonly ClusterStoreConnection _connection;
    private readonly RedisConfigurationStore _store;
    private readonly LoadBalancerService _service;
    private readonly TetherStore _local;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private TaskCompletionSource _wake = NewSignal();
    private long _applied = -1;
    private volatile bool _up;
    private volatile bool _force = true;
    private bool _subscribed;

    /// <summary>Creates the loop; it runs once the host starts it.</summary>
    public ClusterConfigurationSync(ClusterStoreConnection connection, RedisConfigurationStore store, LoadBalancerService service,
        TetherStore local, TimeProvider time, ILogger<ClusterConfigurationSync> logger)
    {
        _connection = connection;
        _store = store;
        _service = service;
        _local = local;
        _time = time;
        _logger = logger;
        _up = connection.IsConnected;
        _service.ResyncRequested += Wake;
        _connection.Multiplexer.ConnectionRestored += (_, _) =>
        {
            _force = true;
            Wake();
        };
        _connection.Multiplexer.ConnectionFailed += (_, _) => Wake();
    }

    /// <summary>True while the cluster store answers (the <c>tether_cluster_store_up</c> gauge).</summary>
    public bool StoreUp => _up;

    /// <summary>The revision whose configuration is applied here (-1 before the first reload).</summary>
    public long AppliedRevision => Interlocked.Read(ref _applied);

    /// <summary>True when the store is up and the configuration applied is its latest read revision (readiness).</summary>
    public bool InSync => _up && !_force && AppliedRevision >= 0;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var signal = Volatile.Read(ref _wake);
            await PollOnceAsync(stoppingToken).ConfigureAwait(false);
            try
            {
                await signal.Task.WaitAsync(PollInterval, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The poll interval passed without a message.
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (signal.Task.IsCompleted)
            {
                Interlocked.CompareExchange(ref _wake, NewSignal(), signal);
            }
        }
    }

    /// <summary>One round: notes the connection state, subscribes when not yet done, and reloads when the revision
    /// moved (or a reload is due after a reconnect). Never throws but for cancellation.</summary>
    internal async Task PollOnceAsync(CancellationToken cancellationToken)
    {
        var up = _connection.IsConnected;
        if (up != _up)
        {
            _up = up;
            if (up)
            {
                ClusterLog.StoreUp(_logger, _connection.Instance);
                _force = true;
            }
            else
            {
                ClusterLog.StoreDown(_logger, _connection.Instance);
            }
        }

        if (!up)
        {
            return;
        }

        try
        {
            if (!_subscribed)
            {
                await _connection.Multiplexer.GetSubscriber().SubscribeAsync(_store.RevisionChannel, (_, _) => Wake()).ConfigureAwait(false);
                _subscribed = true;
            }

            var revision = _store.ReadRevision();
            var highest = _store.HighestRevisionSeen;
            if (revision == 0 && (_service.All.Count > 0 || highest > 0) && _store.Reseed(_service.All))
            {
                // An empty store (Redis lost its data, or the first start from a single instance's database): it
                // gets the configuration this instance serves rather than this instance dropping it.
                ClusterLog.Reseeded(_logger, _service.All.Count);
                revision = _store.ReadRevision();
            }

            if (revision == AppliedRevision && !_force)
            {
                return;
            }

            _force = false;
            var configs = await _service.ResyncAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Exchange(ref _applied, revision);
            ClusterLog.Resynced(_logger, revision, configs.Count);
            _local.ReplaceAll(configs);
            MirrorTokens();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            _force = true;
            if (e is ConfigurationStoreUnavailableException or RedisException && _up && !_connection.IsConnected)
            {
                _up = false;
                ClusterLog.StoreDown(_logger, _connection.Instance);
            }
            else
            {
                ClusterLog.ResyncFailed(_logger, e);
            }
        }
    }

    /// <summary>Keeps the tokens in the local store as Redis has them (the fallback of authentication while Redis is
    /// away).</summary>
    private void MirrorTokens()
    {
        var shared = _store.ReadTokens();
        var names = shared.Select(t => t.Token).ToHashSet(StringComparer.Ordinal);
        foreach (var (token, _) in _local.ListTokens())
        {
            if (!names.Contains(token))
            {
                _local.DeleteToken(token);
            }
        }

        foreach (var (token, grant, created) in shared)
        {
            _local.AddToken(token, grant.AccountId, created, grant.Role);
        }
    }

    private void Wake() => Volatile.Read(ref _wake).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <inheritdoc />
    public override void Dispose()
    {
        _service.ResyncRequested -= Wake;
        base.Dispose();
    }
}

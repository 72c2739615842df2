using Microsoft.Extensions.Logging;
using Tether.Core;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using Tether.Proxy.Health;
using Yarp.ReverseProxy.Forwarder;

namespace Tether.Proxy;

/// <summary>
/// The data plane: every load balancer's listeners and runtime model (<see cref="IDataPlane"/>). Changes are
/// serialized; the request path never waits on them.
/// </summary>
public sealed class DataPlane : IDataPlane, IRuntimeRegistry, IAsyncDisposable
{
    private readonly Dictionary<int, LoadBalancerHost> _hosts = [];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IHttpForwarder _forwarder;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly ProxyOptions _options;
    private readonly TimeProvider _time;
    private readonly IRandomSource _random;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _purgeLoop;
    private CookieKeyRing _keys;
    private readonly IStickTableStore? _stickStore;
    private readonly Func<IReadOnlyList<CookieKey>>? _keySource;
    private readonly CookieKeyReread? _keyReread;
    private readonly IStickTableReplication? _stickReplication;
    private readonly HealthMonitoring _health;
    private long _lastSave;
    private int _disposed;

    /// <summary>Creates an empty data plane.</summary>
    /// <param name="forwarder">YARP's forwarder (from <c>services.AddHttpForwarder()</c>).</param>
    /// <param name="keys">The persistence cookie key ring.</param>
    /// <param name="options">Data plane settings.</param>
    /// <param name="time">The clock.</param>
    /// <param name="random">The random source of the algorithms.</param>
    /// <param name="loggerFactory">Where logs go.</param>
    /// <param name="stickStore">Where stick tables are kept across restarts (null: memory only).</param>
    /// <param name="keySource">Reads the stored cookie keys; checked every purge interval so that a key added by
    /// <c>tether keys rotate</c> signs new cookies without a restart (null: keys never change).</param>
    /// <param name="stickReplication">Cluster mode: shares every stick table through the cluster store (issue 14;
    /// null: tables stay in this process).</param>
    /// <param name="rereadUnknownKeys">Cluster mode: a cookie signed with a key id this instance lacks makes it re-read
    /// <paramref name="keySource"/> at once (at most once a second, <see cref="CookieKeyReread"/>) before the cookie
    /// is judged; false: only the periodic reload.</param>
    /// <param name="metricLabels">Labels every series on <c>/metrics</c> carries (cluster mode: <c>instance</c>;
    /// null: none).</param>
    public DataPlane(IHttpForwarder forwarder, CookieKeyRing keys, ProxyOptions options, TimeProvider time, IRandomSource random, ILoggerFactory loggerFactory, IStickTableStore? stickStore = null, Func<IReadOnlyList<CookieKey>>? keySource = null, IStickTableReplication? stickReplication = null, bool rereadUnknownKeys = false, IReadOnlyDictionary<string, string>? metricLabels = null)
    {
        _keyReread = rereadUnknownKeys && keySource is not null ? new CookieKeyReread(() => Task.Run(ReloadKeys), time) : null;
        _stickReplication = stickReplication;
        _stickStore = stickStore;
        _keySource = keySource;
        _forwarder = forwarder;
        _keys = keys;
        _options = options;
        _time = time;
        _random = random;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<DataPlane>();
        Metrics = new Metrics.TetherMetrics(LiveRuntimes, metricLabels);
        _contentCache = new Http.ContentCache(options, loggerFactory);
        _health = new HealthMonitoring(options, time, loggerFactory);
        _purgeLoop = PurgeLoopAsync(_stopping.Token);
    }

    /// <summary>The content cache shared by every load balancer with content caching on (bounded by
    /// <see cref="ProxyOptions.ContentCacheSizeMegabytes"/>).</summary>
    private readonly Http.ContentCache _contentCache;

    /// <summary>The data plane's Prometheus metrics (served at <c>/metrics</c> on the management port).</summary>
    public Metrics.TetherMetrics Metrics { get; }

    private List<LoadBalancerRuntime> LiveRuntimes()
    {
        _gate.Wait();
        try
        {
            var list = new List<LoadBalancerRuntime>(_hosts.Count);
            foreach (var host in _hosts.Values)
            {
                list.Add(host.Runtime);
            }

            return list;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The runtime of load balancer <paramref name="loadBalancerId"/>, or <c>null</c> (for statistics and
    /// the persistence API; never the request path).</summary>
    public LoadBalancerRuntime? FindRuntime(int loadBalancerId)
    {
        _gate.Wait();
        try
        {
            return _hosts.TryGetValue(loadBalancerId, out var host) ? host.Runtime : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Replaces the cookie key ring (key rotation): new cookies are signed with its current key.</summary>
    public void SetKeys(CookieKeyRing keys)
    {
        _gate.Wait();
        try
        {
            _keys = keys;
            foreach (var host in _hosts.Values)
            {
                host.Runtime.Keys = keys;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task ApplyAsync(LoadBalancerConfig config, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_hosts.TryGetValue(config.Id, out var host))
            {
                await host.ApplyAsync(config, cancellationToken).ConfigureAwait(false);
                return;
            }

            var runtime = new LoadBalancerRuntime(config, _keys, _time, _random, _stickReplication) { KeyReread = _keyReread };
            host = new LoadBalancerHost(runtime, _forwarder, _loggerFactory, _options, _health, Metrics, _contentCache);
            await host.ApplyAsync(config, cancellationToken).ConfigureAwait(false);
            _hosts[config.Id] = host;
            LoadStickTable(runtime);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task RemoveAsync(int loadBalancerId, CancellationToken cancellationToken)
    {
        LoadBalancerHost? host;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_hosts.Remove(loadBalancerId, out host))
            {
                return;
            }
        }
        finally
        {
            _gate.Release();
        }

        await host.DisposeAsync().ConfigureAwait(false);
        try
        {
            _stickStore?.Delete(loadBalancerId);
        }
        catch (Exception e)
        {
            ProxyLog.StickTableSaveFailed(_logger, loadBalancerId, e);
        }

        ProxyLog.Removed(_logger, loadBalancerId);
    }

    /// <summary>Stops every listener; in-flight requests finish within the shutdown timeout.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _purgeLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        LoadBalancerHost[] hosts;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            hosts = [.. _hosts.Values];
            _hosts.Clear();
        }
        finally
        {
            _gate.Release();
        }

        await Task.WhenAll(hosts.Select(h => h.DisposeAsync().AsTask())).ConfigureAwait(false);
        SaveStickTables(hosts.Select(h => h.Runtime));
        _health.Dispose();
        _stopping.Dispose();
    }

    private async Task PurgeLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.PurgeIntervalSeconds), _time);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            LoadBalancerRuntime[] runtimes;
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                runtimes = [.. _hosts.Values.Select(h => h.Runtime)];
            }
            finally
            {
                _gate.Release();
            }

            foreach (var runtime in runtimes)
            {
                runtime.PurgeExpired();
            }

            ReloadKeys();

            var now = _time.GetTimestamp();
            if (now - _lastSave >= _options.StickTableSaveIntervalSeconds * _time.TimestampFrequency)
            {
                _lastSave = now;
                SaveStickTables(runtimes);
            }
        }
    }

    private void LoadStickTable(LoadBalancerRuntime runtime)
    {
        var type = runtime.Snapshot.PersistenceType;
        if (_stickStore is null || type is null)
        {
            return;
        }

        try
        {
            var loaded = runtime.ImportStickTable(_stickStore.Load(runtime.Snapshot.Id, PersistenceTypeNames.ToName(type.Value)));
            ProxyLog.StickTableLoaded(_logger, runtime.Snapshot.Id, loaded);
        }
        catch (Exception e)
        {
            ProxyLog.StickTableSaveFailed(_logger, runtime.Snapshot.Id, e);
        }
    }

    /// <summary>Writes every stick table to the store (periodically and at shutdown), so that persistence survives a
    /// restart.</summary>
    private void SaveStickTables(IEnumerable<LoadBalancerRuntime> runtimes)
    {
        if (_stickStore is null)
        {
            return;
        }

        foreach (var runtime in runtimes)
        {
            var type = runtime.Snapshot.PersistenceType;
            try
            {
                _stickStore.Save(runtime.Snapshot.Id, type is null ? "" : PersistenceTypeNames.ToName(type.Value), runtime.ExportStickTable());
            }
            catch (Exception e)
            {
                ProxyLog.StickTableSaveFailed(_logger, runtime.Snapshot.Id, e);
            }
        }
    }

    /// <summary>Picks up keys added to the store (key rotation) without a restart.</summary>
    private void ReloadKeys()
    {
        if (_keySource is null)
        {
            return;
        }

        try
        {
            var keys = _keySource();
            var current = _keys;
            var newest = keys.Count == 0 ? 0 : keys.Max(k => k.Id);
            if (keys.Count > 0 && (newest != current.Current.Id || keys.Any(k => current.Find(k.Id) is null)))
            {
                SetKeys(new CookieKeyRing(keys));
                ProxyLog.CookieKeysReloaded(_logger, newest, keys.Count);
            }
        }
        catch (Exception e)
        {
            ProxyLog.CookieKeysReloadFailed(_logger, e);
        }
    }
}

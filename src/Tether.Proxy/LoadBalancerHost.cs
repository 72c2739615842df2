using System.Net;
using Microsoft.Extensions.Logging;
using Tether.Core;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Proxy.Health;
using Tether.Proxy.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Tether.Proxy;

/// <summary>
/// One load balancer in the data plane: its <see cref="LoadBalancerRuntime"/>, its request handler and its listeners.
/// Changes are applied bind-first: new endpoints are bound before anything else changes, so a port that cannot be
/// bound leaves the previous configuration live; endpoints no longer wanted are released after the swap, with their
/// in-flight requests allowed to finish.
/// </summary>
internal sealed class LoadBalancerHost : IAsyncDisposable
{
    private readonly Dictionary<IPEndPoint, Listener> _listeners = [];
    private readonly HttpProxyHandler _handler;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly ProxyOptions _options;
    private readonly HealthMonitoring _health;
    private HealthChecker? _checker;

    public LoadBalancerHost(LoadBalancerRuntime runtime, IHttpForwarder forwarder, ILoggerFactory loggerFactory, ProxyOptions options, HealthMonitoring health)
    {
        _health = health;
        Runtime = runtime;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<LoadBalancerHost>();
        _options = options;
        _handler = new HttpProxyHandler(runtime, forwarder, options);
    }

    public LoadBalancerRuntime Runtime { get; }

    public int Id => Runtime.Snapshot.Id;

    /// <summary>The endpoints bound now.</summary>
    public IReadOnlyCollection<IPEndPoint> EndPoints => _listeners.Keys;

    public async Task ApplyAsync(LoadBalancerConfig config, CancellationToken cancellationToken)
    {
        var wanted = DesiredEndPoints(config);
        var started = new List<Listener>();
        try
        {
            foreach (var endPoint in wanted)
            {
                if (!_listeners.ContainsKey(endPoint))
                {
                    started.Add(await Listener.StartHttpAsync(endPoint, _handler.HandleAsync, _loggerFactory, _options, cancellationToken).ConfigureAwait(false));
                    ProxyLog.ListenerStarted(_logger, config.Id, endPoint);
                }
            }
        }
        catch (ListenerBindException e)
        {
            ProxyLog.ListenerFailed(_logger, config.Id, e.Message);
            foreach (var listener in started)
            {
                await listener.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        // Everything is bound: publish the new model (a changed health monitor is stopped first and started after,
        // so that no probe of the old one changes a status afterwards), then release what is no longer wanted.
        var monitorChanged = _checker?.Monitor != config.HealthMonitor;
        if (monitorChanged && _checker is not null)
        {
            await _checker.DisposeAsync().ConfigureAwait(false);
            _checker = null;
        }

        foreach (var change in Runtime.Apply(config))
        {
            HealthLog.NodeOnline(_logger, config.Id, change.NodeId, change.DetailedMessage);
        }

        if (monitorChanged && config.HealthMonitor is { } monitor)
        {
            _checker = _health.Start(Runtime, monitor);
        }

        _handler.OnConfigApplied(config);
        foreach (var listener in started)
        {
            _listeners[listener.EndPoint] = listener;
        }

        var obsolete = new List<Listener>();
        foreach (var (endPoint, listener) in _listeners)
        {
            if (!wanted.Contains(endPoint))
            {
                obsolete.Add(listener);
            }
        }

        foreach (var listener in obsolete)
        {
            _listeners.Remove(listener.EndPoint);
            _ = StopInBackgroundAsync(listener);
        }

        ProxyLog.ConfigApplied(_logger, config.Id, config.Nodes.Length, config.Algorithm);
    }

    public async ValueTask DisposeAsync()
    {
        if (_checker is not null)
        {
            await _checker.DisposeAsync().ConfigureAwait(false);
            _checker = null;
        }

        var stops = new List<Task>();
        foreach (var listener in _listeners.Values)
        {
            stops.Add(listener.DisposeAsync().AsTask());
        }

        _listeners.Clear();
        await Task.WhenAll(stops).ConfigureAwait(false);
    }

    private async Task StopInBackgroundAsync(Listener listener)
    {
        try
        {
            await listener.DisposeAsync().ConfigureAwait(false);
            ProxyLog.ListenerStopped(_logger, Id, listener.EndPoint);
        }
        catch (Exception e)
        {
            ProxyLog.ListenerStopFailed(_logger, Id, listener.EndPoint, e);
        }
    }

    private static HashSet<IPEndPoint> DesiredEndPoints(LoadBalancerConfig config)
    {
        var set = new HashSet<IPEndPoint>();
        foreach (var vip in config.VirtualIps)
        {
            set.Add(new IPEndPoint(IPAddress.Parse(vip.Address), config.Port));
        }

        return set;
    }
}

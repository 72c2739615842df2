using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Tether.Core;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Proxy.Health;
using Tether.Proxy.Http;
using Tether.Proxy.Tcp;
using Tether.Proxy.Udp;
using Yarp.ReverseProxy.Forwarder;

namespace Tether.Proxy;

/// <summary>
/// One load balancer in the data plane: its <see cref="LoadBalancerRuntime"/>, its request and connection handlers
/// and its listeners, keyed by (endpoint, <see cref="ProtocolLayer"/>). The protocol's layer chooses the listener:
/// HTTP (<see cref="Listener"/>), TCP (<see cref="TcpProxyListener"/>) or UDP (<see cref="UdpProxyListener"/>).
/// </summary>
/// <remarks>
/// Changes are applied bind-first: new endpoints are bound before anything else changes, so a port that cannot be
/// bound leaves the previous configuration live; endpoints no longer wanted are released after the swap, with their
/// in-flight requests and connections allowed to finish. One exception: a protocol change that keeps the port and
/// the transport (HTTP ↔ TCP) must stop the old listener accepting first, since it holds the port; if the new one
/// then cannot bind, the old kind is bound again and the change fails with <see cref="ListenerBindException"/>.
/// </remarks>
internal sealed class LoadBalancerHost : IAsyncDisposable
{
    /// <summary>How long a bind on a port that this load balancer's own stopping listener is releasing is retried.</summary>
    private static readonly TimeSpan ReleaseWait = TimeSpan.FromSeconds(5);

    private readonly Dictionary<(IPEndPoint EndPoint, ProtocolLayer Layer), IListener> _listeners = [];
    private readonly HttpProxyHandler _handler;
    private readonly Http.FastPath.Http1Forwarder _fastPath;
    private readonly TcpProxyHandler _tcpHandler;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly ProxyOptions _options;
    private readonly Tls.CertificateHolder _certificate = new();
    private readonly HealthMonitoring _health;
    private HealthChecker? _checker;
    private readonly Access.AccessControl _access;
    private readonly NodeAddressResolver _resolver;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _refresh;

    public LoadBalancerHost(LoadBalancerRuntime runtime, IHttpForwarder forwarder, ILoggerFactory loggerFactory, ProxyOptions options, HealthMonitoring health, Metrics.TetherMetrics? metrics = null,
        ContentCache? cache = null, IHostNameResolver? dns = null)
    {
        _health = health;
        _resolver = new NodeAddressResolver(dns ?? DnsHostNameResolver.Instance, TimeSpan.FromSeconds(options.ConnectTimeoutSeconds));
        Runtime = runtime;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<LoadBalancerHost>();
        _options = options;
        _access = new Access.AccessControl(runtime.Snapshot.Config, options, loggerFactory.CreateLogger<Access.AccessControl>(), runtime.Time);
        _handler = new HttpProxyHandler(runtime, forwarder, options, metrics, _access, _logger, cache);
        // The HTTP/1.1 fast path (issue 4); requests it hands over go to the handler. Both share the error log and
        // the answer counts.
        _fastPath = new Http.FastPath.Http1Forwarder(runtime, options, _access, _handler.Errors, _handler.Answers, _logger);
        _tcpHandler = new TcpProxyHandler(runtime, options, loggerFactory.CreateLogger<TcpProxyHandler>(), _access);
    }

    public LoadBalancerRuntime Runtime { get; }

    /// <summary>Access list, throttle, error page and connection log of this load balancer.</summary>
    public Access.AccessControl Access => _access;

    public int Id => Runtime.Snapshot.Id;

    /// <summary>The listeners bound now, by endpoint and layer.</summary>
    public IReadOnlyCollection<(IPEndPoint EndPoint, ProtocolLayer Layer)> Listeners => _listeners.Keys;

    /// <summary>The layer that carries <paramref name="protocol"/> (HTTP for a name the catalog does not hold).</summary>
    public static ProtocolLayer LayerOf(string protocol) =>
        Protocols.TryGet(protocol, out var info) ? info.Layer : ProtocolLayer.Http;

    public async Task ApplyAsync(LoadBalancerConfig config, CancellationToken cancellationToken)
    {
        var layer = LayerOf(config.Protocol);
        var wanted = DesiredEndPoints(config);
        var secure = SecureEndPoints(config);
        if (secure.Count > 0)
        {
            _certificate.Update(config.SslTermination!);
            wanted.UnionWith(secure);
        }
        var started = new List<IListener>();
        var stoppedFirst = new List<IListener>();
        try
        {
            foreach (var endPoint in wanted)
            {
                if (_listeners.ContainsKey((endPoint, layer)))
                {
                    continue;
                }

                if (FindPortHolder(endPoint, layer) is { } holder)
                {
                    // Same port, same transport, other layer: the old listener must let go of the port first.
                    stoppedFirst.Add(holder);
                    await holder.StopAcceptingAsync().ConfigureAwait(false);
                    started.Add(await StartWhenReleasedAsync(layer, endPoint, cancellationToken).ConfigureAwait(false));
                }
                else if (secure.Contains(endPoint))
                {
                    started.Add(await Listener.StartHttpAsync(endPoint, _handler.ServeAsync, _loggerFactory, _options, cancellationToken, _certificate, ConnectionMiddleware(ssl: true), _fastPath).ConfigureAwait(false));
                }
                else
                {
                    started.Add(await StartAsync(layer, endPoint, cancellationToken).ConfigureAwait(false));
                }

                ProxyLog.ListenerStarted(_logger, config.Id, endPoint);
            }
        }
        catch (ListenerBindException e)
        {
            ProxyLog.ListenerFailed(_logger, config.Id, e.Message);
            foreach (var listener in started)
            {
                await listener.DisposeAsync().ConfigureAwait(false);
            }

            await RestoreAsync(stoppedFirst).ConfigureAwait(false);
            throw;
        }

        // Everything is bound: publish the new model and access policy (a changed health monitor is stopped first and started after,
        // so that no probe of the old one changes a status afterwards), then release what is no longer wanted.
        var monitorChanged = _checker?.Monitor != config.HealthMonitor;
        if (monitorChanged && _checker is not null)
        {
            await _checker.DisposeAsync().ConfigureAwait(false);
            _checker = null;
        }

        _access.Apply(config);
        // Node host names are resolved before the model is published (a name never reaches the data plane
        // unresolved), then every Proxy:NodeAddressRefreshSeconds.
        var names = NodeAddressResolver.NamesOf(config);
        var addresses = names.Count == 0 ? null : await _resolver.ResolveAsync(names, cancellationToken).ConfigureAwait(false);
        LogNodeEvents(config.Id, Runtime.Apply(config, addresses));
        if (names.Count > 0 && _refresh is null)
        {
            _refresh = RefreshAddressesAsync(_stopping.Token);
        }

        if (monitorChanged && config.HealthMonitor is { } monitor)
        {
            _checker = _health.Start(Runtime, monitor);
        }

        _handler.OnConfigApplied(config);
        var obsolete = new List<IListener>();
        foreach (var (key, listener) in _listeners)
        {
            if (key.Layer != layer || !wanted.Contains(key.EndPoint)
                || (listener is Listener http && http.IsTls != secure.Contains(key.EndPoint)))
            {
                obsolete.Add(listener);
            }
        }

        foreach (var listener in obsolete)
        {
            _listeners.Remove((listener.EndPoint, listener.Layer));
            _ = StopInBackgroundAsync(listener);
        }

        foreach (var listener in started)
        {
            _listeners[(listener.EndPoint, listener.Layer)] = listener;
        }

        ProxyLog.ConfigApplied(_logger, config.Id, config.Nodes.Length, config.Algorithm);
    }

    private void LogNodeEvents(int loadBalancerId, IReadOnlyList<Core.Health.NodeStatusEvent> events)
    {
        foreach (var change in events)
        {
            if (change.Status == NodeStatus.Online)
            {
                HealthLog.NodeOnline(_logger, loadBalancerId, change.NodeId, change.DetailedMessage);
            }
            else
            {
                HealthLog.NodeAddressUnresolved(_logger, loadBalancerId, change.NodeId, change.DetailedMessage);
            }
        }
    }

    /// <summary>Resolves the node host names again every <see cref="ProxyOptions.NodeAddressRefreshSeconds"/> until
    /// the host is disposed (off the hot path; see <see cref="NodeAddressResolver"/>).</summary>
    private async Task RefreshAddressesAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.NodeAddressRefreshSeconds), Runtime.Time);
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                LogNodeEvents(Id, await _resolver.RefreshAsync(Runtime, cancellationToken).ConfigureAwait(false));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_refresh is not null)
        {
            await _refresh.ConfigureAwait(false);
        }

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
        await _access.DisposeAsync().ConfigureAwait(false);
        _fastPath.Dispose();
        _stopping.Dispose();
        Runtime.StopTimers();
    }

    private Task<IListener> StartAsync(ProtocolLayer layer, IPEndPoint endPoint, CancellationToken cancellationToken) => layer switch
    {
        ProtocolLayer.Tcp => StartTcpAsync(endPoint, cancellationToken),
        ProtocolLayer.Udp => Task.FromResult<IListener>(UdpProxyListener.Start(endPoint, Runtime, _options, _loggerFactory.CreateLogger<UdpProxyListener>())),
        _ => StartHttpAsync(endPoint, cancellationToken),
    };

    private async Task<IListener> StartTcpAsync(IPEndPoint endPoint, CancellationToken cancellationToken) =>
        await TcpProxyListener.StartAsync(endPoint, _tcpHandler, Id, _options, _loggerFactory, cancellationToken).ConfigureAwait(false);

    private async Task<IListener> StartHttpAsync(IPEndPoint endPoint, CancellationToken cancellationToken) =>
        await Listener.StartHttpAsync(endPoint, _handler.ServeAsync, _loggerFactory, _options, cancellationToken, connectionMiddleware: ConnectionMiddleware(ssl: false), fastPath: _fastPath).ConfigureAwait(false);

    /// <summary>The connection middleware of an HTTP listener: usage counting (bytes on the client socket, before TLS;
    /// <paramref name="ssl"/> on the secure port), then the access list and throttle.</summary>
    private Func<Microsoft.AspNetCore.Connections.ConnectionDelegate, Microsoft.AspNetCore.Connections.ConnectionDelegate> ConnectionMiddleware(bool ssl) =>
        Metrics.UsageTransport.Then(Metrics.UsageTransport.Middleware(Runtime.Usage, ssl), _access.HttpConnectionMiddleware)!;

    /// <summary>Binds a port that one of this load balancer's listeners is releasing: "address in use" is retried for
    /// a moment (an HTTP listener unbinds shortly after its stop begins).</summary>
    private async Task<IListener> StartWhenReleasedAsync(ProtocolLayer layer, IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        // The operating system releases the port in real time: the system clock, whatever clock the runtime has.
        var started = TimeProvider.System.GetTimestamp();
        while (true)
        {
            try
            {
                return await StartAsync(layer, endPoint, cancellationToken).ConfigureAwait(false);
            }
            catch (ListenerBindException e) when (IsAddressInUse(e) && TimeProvider.System.GetElapsedTime(started) < ReleaseWait)
            {
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>After a failed protocol change: binds the previous layer again on the ports its listeners gave up, and
    /// lets those listeners finish their connections.</summary>
    private async Task RestoreAsync(List<IListener> stoppedFirst)
    {
        foreach (var old in stoppedFirst)
        {
            _listeners.Remove((old.EndPoint, old.Layer));
            _ = StopInBackgroundAsync(old);
            try
            {
                var again = await StartWhenReleasedAsync(old.Layer, old.EndPoint, CancellationToken.None).ConfigureAwait(false);
                _listeners[(again.EndPoint, again.Layer)] = again;
            }
            catch (ListenerBindException e)
            {
                ProxyLog.ListenerRestoreFailed(_logger, Id, old.EndPoint, e);
            }
        }
    }

    /// <summary>This load balancer's listener of another layer that holds <paramref name="endPoint"/> on the same
    /// transport (HTTP and TCP share TCP ports; UDP ports are separate).</summary>
    private IListener? FindPortHolder(IPEndPoint endPoint, ProtocolLayer layer)
    {
        foreach (var (key, listener) in _listeners)
        {
            if (key.Layer != layer && key.EndPoint.Equals(endPoint) && (key.Layer == ProtocolLayer.Udp) == (layer == ProtocolLayer.Udp))
            {
                return listener;
            }
        }

        return null;
    }

    private static bool IsAddressInUse(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
            {
                return true;
            }
        }

        return false;
    }

    private async Task StopInBackgroundAsync(IListener listener)
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

    /// <summary>The plain endpoints: every virtual IP on the load balancer's port, except with SSL termination's
    /// secureTrafficOnly (then only when httpsRedirect wants a listener that redirects).</summary>
    private static HashSet<IPEndPoint> DesiredEndPoints(LoadBalancerConfig config)
    {
        var set = new HashSet<IPEndPoint>();
        if (config.SslTermination is { Enabled: true, SecureTrafficOnly: true } && !config.HttpsRedirect)
        {
            return set;
        }

        foreach (var vip in config.VirtualIps)
        {
            set.Add(new IPEndPoint(IPAddress.Parse(vip.Address), config.Port));
        }

        return set;
    }

    /// <summary>The TLS endpoints of SSL termination: every virtual IP on the secure port (HTTP load balancers only).</summary>
    private static HashSet<IPEndPoint> SecureEndPoints(LoadBalancerConfig config)
    {
        var set = new HashSet<IPEndPoint>();
        if (config.SslTermination is { Enabled: true } ssl && LayerOf(config.Protocol) == ProtocolLayer.Http)
        {
            foreach (var vip in config.VirtualIps)
            {
                set.Add(new IPEndPoint(IPAddress.Parse(vip.Address), ssl.SecurePort));
            }
        }

        return set;
    }
}

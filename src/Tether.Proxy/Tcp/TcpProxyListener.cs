using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tether.Core;
using Tether.Core.Model;

namespace Tether.Proxy.Tcp;

/// <summary>
/// A TCP virtual IP and port of a layer 4 load balancer, on Kestrel's connection layer: the socket transport
/// (<see cref="SocketTransportFactory"/>) accepts connections as <see cref="ConnectionContext"/>s over
/// <c>System.IO.Pipelines</c>, and each is served by the load balancer's <see cref="TcpProxyHandler"/>.
/// </summary>
/// <remarks>
/// Hosting the transport directly, rather than a Kestrel server per listener, makes the stop explicit: unbinding
/// releases the port at once (so a protocol change on the same port can bind it again right away), open connections
/// then have <see cref="ProxyOptions.ShutdownTimeoutSeconds"/> to finish, and the rest are aborted.
/// </remarks>
internal sealed class TcpProxyListener : IListener
{
    private readonly IConnectionListener _listener;
    private readonly TcpProxyHandler _handler;
    private readonly ProxyOptions _options;
    private readonly ILogger _logger;
    private readonly int _loadBalancerId;
    private readonly CancellationTokenSource _abort = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _acceptLoop;
    private Task? _stopAccepting;
    private object? _stopAcceptingLock;
    private int _active;
    private int _stopping;
    private int _disposed;

    private TcpProxyListener(IPEndPoint endPoint, IConnectionListener listener, TcpProxyHandler handler, int loadBalancerId,
        ProxyOptions options, ILogger logger)
    {
        EndPoint = endPoint;
        _listener = listener;
        _handler = handler;
        _loadBalancerId = loadBalancerId;
        _options = options;
        _logger = logger;
        _acceptLoop = AcceptLoopAsync();
    }

    public IPEndPoint EndPoint { get; }

    public ProtocolLayer Layer => ProtocolLayer.Tcp;

    /// <summary>Connections open now.</summary>
    public int ActiveConnections => Volatile.Read(ref _active);

    /// <summary>Binds <paramref name="endPoint"/> and starts accepting connections for <paramref name="handler"/>.</summary>
    /// <exception cref="ListenerBindException">The address cannot be bound.</exception>
    public static async Task<TcpProxyListener> StartAsync(IPEndPoint endPoint, TcpProxyHandler handler, int loadBalancerId,
        ProxyOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var transport = new SocketTransportFactory(Options.Create(new SocketTransportOptions { NoDelay = true, CreateBoundListenSocket = ListenSocket.CreateBoundTcp }), loggerFactory);
        IConnectionListener listener;
        try
        {
            listener = await transport.BindAsync(endPoint, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException or InvalidOperationException)
        {
            throw new ListenerBindException($"Cannot listen on {Listener.FormatEndPoint(endPoint)}: {Listener.Reason(e)}", e);
        }

        return new TcpProxyListener(endPoint, listener, handler, loadBalancerId, options, loggerFactory.CreateLogger<TcpProxyListener>());
    }

    /// <summary>Unbinds (the port is free when this completes); open connections go on.</summary>
    public ValueTask StopAcceptingAsync() =>
        new(LazyInitializer.EnsureInitialized(ref _stopAccepting, ref _stopAcceptingLock, StopAcceptingCoreAsync));

    /// <summary>Stops accepting, lets open connections finish within <see cref="ProxyOptions.ShutdownTimeoutSeconds"/>,
    /// then aborts the rest.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAcceptingAsync().ConfigureAwait(false);
        if (!_drained.Task.IsCompleted)
        {
            try
            {
                await _drained.Task.WaitAsync(TimeSpan.FromSeconds(_options.ShutdownTimeoutSeconds)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                ProxyLog.TcpConnectionsAborted(_logger, _loadBalancerId, ActiveConnections, EndPoint, _options.ShutdownTimeoutSeconds);
                await _abort.CancelAsync().ConfigureAwait(false);
                try
                {
                    // Aborted sessions end at once; this bound only guards against a handler that does not.
                    await _drained.Task.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }
            }
        }

        await _listener.DisposeAsync().ConfigureAwait(false);
    }

    private async Task StopAcceptingCoreAsync()
    {
        await _listener.UnbindAsync().ConfigureAwait(false);
        await _acceptLoop.ConfigureAwait(false);
        Volatile.Write(ref _stopping, 1);
        if (Volatile.Read(ref _active) == 0)
        {
            _drained.TrySetResult();
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            ConnectionContext? connection;
            try
            {
                connection = await _listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (Exception e)
            {
                ProxyLog.TcpAcceptFailed(_logger, _loadBalancerId, EndPoint, e);
                return;
            }

            if (connection is null)
            {
                return;
            }

            Interlocked.Increment(ref _active);
            _ = ServeAsync(connection);
        }
    }

    private async Task ServeAsync(ConnectionContext connection)
    {
        // Two descriptors: the client's connection and the node's. Over the process's budget the client is closed at once.
        var counted = _options.Budget.TryEnter(2);
        try
        {
            if (!counted)
            {
                if (_options.Budget.ShouldLog())
                {
                    ProxyLog.ConnectionBudgetSpent(_logger, _options.Budget.Limit, _options.Budget.Refused);
                }

                connection.Abort();
                return;
            }

            await _handler.HandleAsync(connection, _abort.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            ProxyLog.TcpConnectionError(_logger, _loadBalancerId, connection.RemoteEndPoint, e);
        }
        finally
        {
            try
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                ProxyLog.TcpConnectionError(_logger, _loadBalancerId, connection.RemoteEndPoint, e);
            }

            if (counted)
            {
                _options.Budget.Exit(2);
            }

            if (Interlocked.Decrement(ref _active) == 0 && Volatile.Read(ref _stopping) != 0)
            {
                _drained.TrySetResult();
            }
        }
    }
}

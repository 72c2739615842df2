using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tether.Core;

namespace Tether.Proxy;

/// <summary>
/// One bound Kestrel endpoint (virtual IP and port) of a load balancer. Each listener is its own small Kestrel
/// server, so that listeners come and go at run time without touching the others.
/// </summary>
internal sealed class Listener : IListener
{
    private readonly WebApplication _app;
    private Task? _stop;
    private object? _stopLock;

    private Listener(IPEndPoint endPoint, WebApplication app)
    {
        EndPoint = endPoint;
        _app = app;
    }

    public IPEndPoint EndPoint { get; }

    public Core.Model.ProtocolLayer Layer => Core.Model.ProtocolLayer.Http;

    /// <summary>Binds <paramref name="endPoint"/> and starts serving with <paramref name="handler"/>: plain HTTP/1.1
    /// (h2c prior knowledge is not offered), or, with <paramref name="tls"/>, TLS with HTTP/1.1 and HTTP/2 by ALPN
    /// (SSL termination). <paramref name="connectionMiddleware"/> runs first on every accepted connection (the access list
    /// and connection throttle). The certificate is chosen from <paramref name="tls"/> at each handshake by the client's SNI host
    /// name, so a new certificate or certificate mapping takes effect without rebinding. With <paramref name="fastPath"/>, HTTP/1.1 requests are served on the connection
    /// layer and only the others reach <paramref name="handler"/>.</summary>
    /// <exception cref="ListenerBindException">The address cannot be bound.</exception>
    public static async Task<Listener> StartHttpAsync(IPEndPoint endPoint, RequestDelegate handler, ILoggerFactory loggerFactory, ProxyOptions options, CancellationToken cancellationToken, Tls.CertificateHolder? tls = null,
        Func<Microsoft.AspNetCore.Connections.ConnectionDelegate, Microsoft.AspNetCore.Connections.ConnectionDelegate>? connectionMiddleware = null,
        Http.FastPath.Http1Forwarder? fastPath = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(options.ShutdownTimeoutSeconds));
        // WaitForDataBeforeAllocatingBuffer stays on (Kestrel's default): an idle keep-alive connection holds no 4 KiB
        // block. Off, uploads took 18 % less CPU and small requests no less (measured for issue 4).
        builder.WebHost.UseSockets(sockets =>
        {
            sockets.UnsafePreferInlineScheduling = options.InlineScheduling;
            // [::]:port is IPv6-only, so that the IPv4 virtual IP's 0.0.0.0:port is a listener of its own.
            sockets.CreateBoundListenSocket = ListenSocket.CreateBoundTcp;
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null;
            // The same client timeouts as the fast path, for the connections it hands over.
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(options.KeepAliveTimeoutSeconds);
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(options.RequestHeadersTimeoutSeconds);
            kestrel.Listen(endPoint, listen =>
            {
                // Before anything: a connection over the process's connection budget is closed at once.
                listen.Use(options.Budget.Middleware(loggerFactory.CreateLogger("Tether.Proxy")));
                if (connectionMiddleware is not null)
                {
                    // First, so that it runs on the raw connection before anything else (TLS included).
                    listen.Use(connectionMiddleware);
                }

                if (tls is null)
                {
                    listen.Protocols = HttpProtocols.Http1;
                    if (fastPath is not null)
                    {
                        listen.Use(fastPath.Middleware(isHttps: false));
                    }

                    return;
                }

                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(new Microsoft.AspNetCore.Server.Kestrel.Https.TlsHandshakeCallbackOptions
                {
                    // The certificate by the client's SNI host name (certificate mappings), else the load balancer's own.
                    OnConnection = context => ValueTask.FromResult(new System.Net.Security.SslServerAuthenticationOptions
                    {
                        ServerCertificateContext = tls.Select(context.ClientHelloInfo.ServerName),
                        ApplicationProtocols = [System.Net.Security.SslApplicationProtocol.Http2, System.Net.Security.SslApplicationProtocol.Http11],
                    }),
                });
                // Every connection the listener ends sends close_notify first (RFC 8446 6.1), whichever stack served it.
                listen.Use(Tls.TlsCloseNotify.Middleware());
                if (fastPath is not null)
                {
                    // After TLS: the fast path reads the decrypted stream (HTTP/2 connections go on to Kestrel).
                    listen.Use(fastPath.Middleware(isHttps: true));
                }
            });
        });
        var app = builder.Build();
        app.Run(handler);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException or InvalidOperationException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new ListenerBindException($"Cannot listen on {FormatEndPoint(endPoint)}: {Reason(e)}", e);
        }

        return new Listener(endPoint, app) { IsTls = tls is not null };
    }

    /// <summary>True for an SSL termination (TLS) listener.</summary>
    public bool IsTls { get; private init; }

    /// <summary>Starts the graceful stop (Kestrel unbinds first, then lets in-flight requests finish) and returns
    /// without waiting for it.</summary>
    public ValueTask StopAcceptingAsync()
    {
        _ = Stop();
        return ValueTask.CompletedTask;
    }

    /// <summary>Stops accepting, lets in-flight requests finish (bounded by the shutdown timeout), and releases the port.</summary>
    public ValueTask DisposeAsync() => new(Stop());

    private Task Stop() => LazyInitializer.EnsureInitialized(ref _stop, ref _stopLock, StopCoreAsync);

    private async Task StopCoreAsync()
    {
        try
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal static string FormatEndPoint(IPEndPoint endPoint) =>
        endPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]:{endPoint.Port}" : $"{endPoint.Address}:{endPoint.Port}";

    internal static string Reason(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Net.Sockets.SocketException se)
            {
                return se.SocketErrorCode switch
                {
                    System.Net.Sockets.SocketError.AddressAlreadyInUse => "address already in use",
                    System.Net.Sockets.SocketError.AddressNotAvailable => "address not available on this host",
                    System.Net.Sockets.SocketError.AccessDenied => "permission denied",
                    _ => se.Message,
                };
            }
        }

        return e.Message;
    }
}

using System.Net.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Tether.Proxy.Tls;

/// <summary>
/// The connection middleware of an SSL termination listener, right after Kestrel's TLS handshake: when the connection
/// ends, whichever stack served it (the HTTP/1.1 fast path, Kestrel's HTTP/1.1 or HTTP/2 with YARP), it sends the TLS
/// <c>close_notify</c> alert before Kestrel closes the socket. RFC 8446 section 6.1 (and RFC 5246 section 7.2.1): "Each
/// party MUST send a close_notify alert before closing its write side of the connection". Without it a client cannot
/// tell an answer cut at connection close from a complete one, and OpenSSL 3 clients (curl, wrk, h2load) count the close
/// as an error and drop the session instead of resuming it. Kestrel's HTTPS middleware disposes its
/// <see cref="SslStream"/> without <see cref="SslStream.ShutdownAsync"/>, so Tether does it here, as HAProxy and nginx
/// do. The alert is not sent when the connection was aborted (a reset, a timeout that aborts): a peer that is gone gets no
/// more bytes. The send is bounded by <see cref="SendTimeout"/> (a client that reads nothing cannot hold the connection).
/// </summary>
public static class TlsCloseNotify
{
    /// <summary>How long the alert (one TLS record, a few dozen bytes) may take to leave: 5 seconds.</summary>
    public static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The middleware (see the type's summary). Errors while sending the alert are ignored: the connection is
    /// ending either way.</summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> Middleware() => next => async connection =>
    {
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            await SendAsync(connection).ConfigureAwait(false);
        }
    };

    private static async Task SendAsync(ConnectionContext connection)
    {
        if (connection.ConnectionClosed.IsCancellationRequested || connection.Features.Get<ISslStreamFeature>()?.SslStream is not { } tls)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(SendTimeout);
        using var abort = timeout.Token.Register(static state => ((ConnectionContext)state!).Abort(), connection);
        try
        {
            // What the served stack wrote and did not flush goes first (a completed pipe has nothing left: it throws).
            await connection.Transport.Output.FlushAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or OperationCanceledException or ObjectDisposedException or ConnectionAbortedException)
        {
        }

        try
        {
            await tls.ShutdownAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or OperationCanceledException or ObjectDisposedException or ConnectionAbortedException or System.Net.Sockets.SocketException)
        {
        }
    }
}

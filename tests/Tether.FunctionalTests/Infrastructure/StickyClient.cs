using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tether.FunctionalTests.Infrastructure;

/// <summary>
/// One client of a load balancer with session persistence, as the cluster tests (issue 14) move it from instance to
/// instance: each request is one HTTP/1.1 exchange on a new connection (<c>Connection: close</c>) from the client's own
/// source address, carrying what identifies the client for its persistence type: nothing but that address
/// (<see cref="SourceIp"/>), a header (<see cref="Header"/>), the application's cookie it was given
/// (<see cref="AppCookie"/>) or Tether's cookie it was given (<see cref="HttpCookie"/>). The answer names the node
/// in its <c>X-Backend</c> header (<see cref="TestBackend"/>).
/// </summary>
public sealed class StickyClient
{
    private readonly string _kind;
    private readonly int _index;
    private string? _cookie;

    private StickyClient(string kind, int index)
    {
        _kind = kind;
        _index = index;
        Source = IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"127.{Subnet(kind)}.{1 + (index / 250)}.{1 + (index % 250)}"));
    }

    /// <summary>The source address the client's connections are bound to (127.10.x.y for SOURCE_IP, 127.11 HEADER,
    /// 127.12 APP_COOKIE, 127.13 HTTP_COOKIE; the last octets from the index).</summary>
    public IPAddress Source { get; }

    /// <summary>What the client is, e.g. <c>SOURCE_IP 127.10.1.4</c> or <c>HEADER session-3</c>.</summary>
    public string Name => _kind == "HEADER" ? $"HEADER session-{_index.ToString(CultureInfo.InvariantCulture)}" : $"{_kind} {Source}";

    /// <summary>A SOURCE_IP client: its source address is the key.</summary>
    public static StickyClient SourceIp(int index) => new("SOURCE_IP", index);

    /// <summary>A HEADER client: sends <c>X-Session-Id: session-INDEX</c> (the load balancer's <c>headerName</c>
    /// must be <c>X-Session-Id</c>).</summary>
    public static StickyClient Header(int index) => new("HEADER", index);

    /// <summary>An APP_COOKIE client (<c>cookieName</c> <c>SESSIONID</c>): its first request is
    /// <c>/app-cookie?value=app-INDEX</c>, whose answer sets the cookie (the node that answers is the one the
    /// load balancer learns); every later request sends <c>Cookie: SESSIONID=app-INDEX</c>.</summary>
    public static StickyClient AppCookie(int index) => new("APP_COOKIE", index);

    /// <summary>An HTTP_COOKIE client: keeps the first <c>tether-…</c> cookie it was given and sends that one with
    /// every later request (a cookie another instance issued afresh is not taken, so a node change shows on every
    /// request, not only on the first).</summary>
    public static StickyClient HttpCookie(int index) => new("HTTP_COOKIE", index);

    /// <summary>One GET through <paramref name="address"/>:<paramref name="port"/> (an instance's loopback address
    /// and the load balancer's port); returns the name of the backend that answered (its <c>X-Backend</c> header).</summary>
    /// <exception cref="IOException">The exchange failed or the answer is not 200 (the status line is in the
    /// message).</exception>
    /// <exception cref="SocketException">The connection failed.</exception>
    public async Task<string> GetAsync(string address, int port, CancellationToken cancellationToken = default)
    {
        var head = new StringBuilder();
        var path = "/";
        switch (_kind)
        {
            case "HEADER":
                head.Append(CultureInfo.InvariantCulture, $"X-Session-Id: session-{_index}\r\n");
                break;
            case "APP_COOKIE" when _cookie is null:
                path = string.Create(CultureInfo.InvariantCulture, $"/app-cookie?value=app-{_index}");
                break;
            case "APP_COOKIE" or "HTTP_COOKIE" when _cookie is not null:
                head.Append(CultureInfo.InvariantCulture, $"Cookie: {_cookie}\r\n");
                break;
        }

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        socket.Bind(new IPEndPoint(Source, 0));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(address), port), timeout.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n{head}\r\n"), SocketFlags.None, timeout.Token);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
        {
            received.Write(buffer, 0, n);
        }

        var text = Encoding.ASCII.GetString(received.ToArray());
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (!text.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) || end < 0)
        {
            throw new IOException($"{Name} through {address}:{port.ToString(CultureInfo.InvariantCulture)}: {text.Split("\r\n")[0]}");
        }

        string? backend = null;
        foreach (var line in text[..end].Split("\r\n").Skip(1))
        {
            if (line.StartsWith("X-Backend:", StringComparison.OrdinalIgnoreCase))
            {
                backend = line["X-Backend:".Length..].Trim();
            }

            if (line.StartsWith("Set-Cookie:", StringComparison.OrdinalIgnoreCase))
            {
                var pair = line["Set-Cookie:".Length..].Trim().Split(';')[0];
                if ((_kind == "APP_COOKIE" && pair.StartsWith("SESSIONID=", StringComparison.Ordinal))
                    || (_kind == "HTTP_COOKIE" && _cookie is null && pair.StartsWith("tether-", StringComparison.Ordinal)))
                {
                    _cookie = pair;
                }
            }
        }

        return backend ?? throw new IOException($"{Name} through {address}:{port.ToString(CultureInfo.InvariantCulture)}: no X-Backend header in the answer");
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    private static int Subnet(string kind) => kind switch
    {
        "SOURCE_IP" => 10,
        "HEADER" => 11,
        "APP_COOKIE" => 12,
        _ => 13,
    };
}

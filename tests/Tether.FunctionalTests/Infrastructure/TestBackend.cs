using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tether.FunctionalTests.Infrastructure;

/// <summary>A real Kestrel backend on 127.0.0.1 with an ephemeral port. It answers with its name (body and
/// <c>X-Backend</c>), echoes forwarding headers on <c>/headers</c>, waits on <c>/slow?ms=N</c>, holds requests on
/// <c>/together?n=N</c> until N of them wait at once (then answers them all; 504 after 30 s), and answers health
/// probes on <c>/health</c> with <see cref="HealthStatus"/> and <see cref="HealthBody"/> (not counted in
/// <see cref="Requests"/>). For HTTP/1.1 framing tests it also has <c>/echo</c> (any method: what it received),
/// <c>/bytes?size=N</c> (<see cref="Pattern"/> with a Content-Length, GET and HEAD), <c>/chunked?size=N</c> (the same
/// bytes in several flushes without Content-Length, so chunked), <c>/status?code=N</c> (an empty answer),
/// <c>/set-cookie</c> (two cookies of its own), <c>/app-cookie?value=V</c> (an application session: sets
/// <c>SESSIONID=V</c>, answers its name) and a WebSocket echo on <c>/ws</c>.</summary>
public sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;
    private int _healthChecks;
    private volatile int _healthStatus = 200;
    private volatile string _healthBody = "OK";
    private volatile string? _lastHealthHost;
    private readonly Lock _togetherLock = new();
    private TaskCompletionSource? _together;
    private int _togetherWaiting;

    private TestBackend(string name, WebApplication app)
    {
        Name = name;
        _app = app;
    }

    public string Name { get; }

    public int Port { get; private set; }

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The status code <c>/health</c> answers (default 200).</summary>
    public int HealthStatus
    {
        get => _healthStatus;
        set => _healthStatus = value;
    }

    /// <summary>The body <c>/health</c> answers (default <c>OK</c>).</summary>
    public string HealthBody
    {
        get => _healthBody;
        set => _healthBody = value;
    }

    /// <summary>How many requests <c>/health</c> received.</summary>
    public int HealthChecks => Volatile.Read(ref _healthChecks);

    /// <summary>The Host header of the last <c>/health</c> request.</summary>
    public string? LastHealthHost => _lastHealthHost;

    public static async Task<TestBackend> StartAsync(string name, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        TestBackend? self = null;
        app.Use((context, next) =>
        {
            if (context.Request.Path == "/health")
            {
                Interlocked.Increment(ref self!._healthChecks);
                self._lastHealthHost = context.Request.Headers.Host;
                context.Response.StatusCode = self.HealthStatus;
                return context.Response.WriteAsync(self.HealthBody);
            }

            Interlocked.Increment(ref self!._requests);
            context.Response.Headers["X-Backend"] = name;
            return next(context);
        });
        app.MapGet("/headers", (HttpContext c) => string.Join('\n',
            $"x-forwarded-for={c.Request.Headers["X-Forwarded-For"]}",
            $"x-forwarded-proto={c.Request.Headers["X-Forwarded-Proto"]}",
            $"x-forwarded-port={c.Request.Headers["X-Forwarded-Port"]}",
            $"host={c.Request.Headers.Host}",
            $"cookie={c.Request.Headers.Cookie}"));
        app.MapGet("/slow", async (int ms, CancellationToken ct) =>
        {
            await Task.Delay(ms, ct);
            return name;
        });
        app.MapGet("/together", async (int n, HttpContext c) =>
        {
            try
            {
                await self!.Together(n).WaitAsync(TimeSpan.FromSeconds(30), c.RequestAborted);
            }
            catch (TimeoutException)
            {
                c.Response.StatusCode = 504;
                return;
            }

            await c.Response.WriteAsync(name);
        });
        app.MapGet("/app-cookie", (HttpContext c, string value) =>
        {
            c.Response.Headers.Append("Set-Cookie", $"SESSIONID={value}; Path=/; HttpOnly");
            return name;
        });
        MapFramingEndpoints(app);
        app.MapFallback(() => name);
        self = new TestBackend(name, app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self.Port = new Uri(address).Port;
        return self;
    }

    /// <summary>A task that completes when <paramref name="count"/> callers wait on it at once (the N-th completes
    /// it and starts a new round): requests that are certainly in flight together, whatever the machine's load.</summary>
    private Task Together(int count)
    {
        lock (_togetherLock)
        {
            var round = _together ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (++_togetherWaiting >= count)
            {
                _together = null;
                _togetherWaiting = 0;
                round.TrySetResult();
            }

            return round.Task;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The deterministic bytes <c>/bytes</c> and <c>/chunked</c> answer: <paramref name="size"/> bytes that
    /// are not a short repetition, so that a lost, doubled or moved block changes their SHA-256.</summary>
    public static byte[] Pattern(int size)
    {
        var bytes = new byte[size];
        uint x = 2463534242;
        for (var i = 0; i < size; i++)
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            bytes[i] = (byte)x;
        }

        return bytes;
    }

    /// <summary>The lower-case hex SHA-256 of <paramref name="bytes"/>, as <c>/echo</c> reports it.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static void MapFramingEndpoints(WebApplication app)
    {
        app.UseWebSockets();

        // One line per fact: method=, path=, query=, length=, sha256=, then "header=Name: value" per value received
        // (a header sent twice gives two lines), in the order the server lists them. Answered with a Content-Length.
        app.Map("/echo", async (HttpContext c) =>
        {
            using var buffer = new MemoryStream();
            await c.Request.Body.CopyToAsync(buffer, c.RequestAborted);
            var text = new StringBuilder()
                .Append("method=").Append(c.Request.Method).Append('\n')
                .Append("path=").Append(c.Request.Path.Value).Append('\n')
                .Append("query=").Append(c.Request.QueryString.Value).Append('\n')
                .Append("length=").Append(buffer.Length).Append('\n')
                .Append("sha256=").Append(Sha256Hex(buffer.GetBuffer().AsSpan(0, (int)buffer.Length))).Append('\n');
            foreach (var header in c.Request.Headers)
            {
                foreach (var value in header.Value)
                {
                    text.Append("header=").Append(header.Key).Append(": ").Append(value).Append('\n');
                }
            }

            var body = Encoding.UTF8.GetBytes(text.ToString());
            c.Response.ContentType = "text/plain; charset=utf-8";
            c.Response.ContentLength = body.Length;
            await c.Response.Body.WriteAsync(body, c.RequestAborted);
        });
        app.MapMethods("/bytes", ["GET", "HEAD"], async (HttpContext c, int size) =>
        {
            c.Response.ContentType = "application/octet-stream";
            c.Response.ContentLength = size;
            if (!HttpMethods.IsHead(c.Request.Method))
            {
                await c.Response.Body.WriteAsync(Pattern(size), c.RequestAborted);
            }
        });
        app.MapGet("/chunked", async (HttpContext c, int size) =>
        {
            c.Response.ContentType = "application/octet-stream";
            var bytes = Pattern(size);
            var step = Math.Max(1, size / 8);
            for (var offset = 0; offset < size; offset += step)
            {
                await c.Response.Body.WriteAsync(bytes.AsMemory(offset, Math.Min(step, size - offset)), c.RequestAborted);
                await c.Response.Body.FlushAsync(c.RequestAborted);
            }
        });
        app.MapGet("/status", (HttpContext c, int code) =>
        {
            c.Response.StatusCode = code;
            if (code == StatusCodes.Status304NotModified)
            {
                c.Response.Headers.ETag = "\"v1\"";
            }
        });
        app.MapGet("/set-cookie", (HttpContext c) =>
        {
            c.Response.Headers.Append("Set-Cookie", "app-a=1; Path=/");
            c.Response.Headers.Append("Set-Cookie", "app-b=2; Path=/; HttpOnly");
            return "cookies";
        });
        app.Map("/ws", async (HttpContext c) =>
        {
            if (!c.WebSockets.IsWebSocketRequest)
            {
                c.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            using var socket = await c.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, c.RequestAborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", c.RequestAborted);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, c.RequestAborted);
            }
        });
    }
}

/// <summary>Ports for load balancers (the API needs a concrete port).</summary>
public static class FreePort
{
    // Below Linux's ephemeral range (32768-60999): outgoing connections, of this test run or of the drills it starts,
    // never take these ports from under a listener about to bind.
    private static int _next = 10000 + (Environment.ProcessId % 200) * 100;

    /// <summary>A port that was free a moment ago on 127.0.0.1.</summary>
    public static int Next()
    {
        while (true)
        {
            var port = Interlocked.Increment(ref _next);
            try
            {
                using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
                return port;
            }
            catch (System.Net.Sockets.SocketException)
            {
            }
        }
    }
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Tether.Proxy.Access;

/// <summary>How the load balancer decided where a request or connection went, as the connection log writes it.</summary>
internal enum AccessLogDecision : byte
{
    /// <summary><c>none</c>: no decision was made (no node available, a redirect, or an answer before any decision).</summary>
    None,
    /// <summary><c>persisted</c>: a valid cookie or stick-table entry chose the node.</summary>
    Persisted,
    /// <summary><c>hashed</c>: SOURCE_IP consistent hashing chose the node.</summary>
    Hashed,
    /// <summary><c>balanced</c>: the algorithm chose the node.</summary>
    Balanced,
    /// <summary><c>repinned</c>: the pinned node was unavailable and the client was moved (fallback).</summary>
    Repinned,
    /// <summary><c>rejected</c>: refused: pinned to an unavailable node without fallback (502), refused by the access
    /// list (connection closed) or over the connection throttle (503, or TCP connection closed).</summary>
    Rejected,
}

/// <summary>One line of the connection log, queued by the request path (a small struct; nothing is formatted
/// there).</summary>
internal readonly record struct AccessLogEntry(
    DateTime Time,
    IPAddress? Client,
    int ClientPort,
    int LoadBalancerId,
    IPEndPoint? Node,
    int Status,
    long BytesIn,
    long BytesOut,
    long DurationMs,
    AccessLogDecision Decision);

/// <summary>
/// The connection log of one load balancer (Rackspace connection logging; issue 6): a bounded
/// <see cref="Channel{T}"/> filled by the request path with <see cref="TryEnqueue"/> (never blocks; a full channel
/// drops the line and counts it in <see cref="Dropped"/>), drained by one background task that appends to
/// <c>&lt;dataDirectory&gt;/logs/lb-&lt;id&gt;.log</c> (<see cref="ProxyOptions.DataDirectory"/>; standard output when it
/// is not set) and flushes whenever the channel is empty.
/// </summary>
/// <remarks>
/// One line per HTTP request or TCP connection, nine fields separated by one space, <c>-</c> for a field that does not
/// apply:
/// <code>time client lb node status bytes_in bytes_out duration_ms persistence</code>
/// <list type="bullet">
/// <item><c>time</c>: when the request or connection ended, ISO 8601 UTC with milliseconds
/// (<c>2026-01-01T00:00:00.123Z</c>).</item>
/// <item><c>client</c>: the client's address and port (<c>203.0.113.5:51234</c>, <c>[2001:db8::1]:51234</c>).</item>
/// <item><c>lb</c>: the load balancer id.</item>
/// <item><c>node</c>: the node's address and port, or <c>-</c> when no node was used.</item>
/// <item><c>status</c>: the HTTP status code sent to the client (HTTP), or <c>-</c> (TCP, or a connection closed by
/// the access list).</item>
/// <item><c>bytes_in</c>, <c>bytes_out</c>: bytes from the client to the node and from the node to the client (TCP),
/// or <c>-</c> (HTTP).</item>
/// <item><c>duration_ms</c>: from the start of the request (HTTP) or the accept (TCP) to its end, in whole
/// milliseconds.</item>
/// <item><c>persistence</c>: <c>persisted</c>, <c>hashed</c>, <c>balanced</c>, <c>repinned</c>, <c>rejected</c> or
/// <c>none</c> (<see cref="AccessLogDecision"/>).</item>
/// </list>
/// Example: <c>2026-01-01T00:00:00.123Z 127.0.0.1:51234 7 127.0.0.1:8080 200 - - 3 balanced</c>.
/// </remarks>
internal sealed class AccessLogWriter : IAsyncDisposable
{
    /// <summary>Lines that may wait in the channel before new ones are dropped.</summary>
    public const int Capacity = 8192;

    private readonly Channel<AccessLogEntry> _channel = Channel.CreateBounded<AccessLogEntry>(new BoundedChannelOptions(Capacity)
    {
        SingleReader = true,
        SingleWriter = false,
        FullMode = BoundedChannelFullMode.Wait,
        AllowSynchronousContinuations = false,
    });

    private readonly ILogger _logger;
    private readonly int _loadBalancerId;
    private readonly Task _loop;
    private long _dropped;
    private long _written;

    public AccessLogWriter(int loadBalancerId, ProxyOptions options, ILogger logger)
    {
        _loadBalancerId = loadBalancerId;
        _logger = logger;
        Path = options.DataDirectory is { Length: > 0 } dir
            ? System.IO.Path.Combine(dir, "logs", $"lb-{loadBalancerId.ToString(CultureInfo.InvariantCulture)}.log")
            : null;
        _loop = Task.Run(WriteLoopAsync);
    }

    /// <summary>The log file, or null when lines go to standard output.</summary>
    public string? Path { get; }

    /// <summary>Lines dropped because the channel was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Lines written.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Queues <paramref name="entry"/>; drops it (and counts the drop) when the channel is full. Never blocks.</summary>
    public void TryEnqueue(in AccessLogEntry entry)
    {
        if (!_channel.Writer.TryWrite(entry))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>Formats one line (without the line end).</summary>
    public static string Format(in AccessLogEntry e)
    {
        var inv = CultureInfo.InvariantCulture;
        return string.Join(' ',
            e.Time.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", inv),
            EndPoint(e.Client, e.ClientPort),
            e.LoadBalancerId.ToString(inv),
            e.Node is null ? "-" : EndPoint(e.Node.Address, e.Node.Port),
            e.Status < 0 ? "-" : e.Status.ToString(inv),
            e.BytesIn < 0 ? "-" : e.BytesIn.ToString(inv),
            e.BytesOut < 0 ? "-" : e.BytesOut.ToString(inv),
            e.DurationMs.ToString(inv),
            DecisionName(e.Decision));
    }

    /// <summary>Completes the channel and waits for the queued lines to be written.</summary>
    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private static string DecisionName(AccessLogDecision decision) => decision switch
    {
        AccessLogDecision.Persisted => "persisted",
        AccessLogDecision.Hashed => "hashed",
        AccessLogDecision.Balanced => "balanced",
        AccessLogDecision.Repinned => "repinned",
        AccessLogDecision.Rejected => "rejected",
        _ => "none",
    };

    private static string EndPoint(IPAddress? address, int port)
    {
        if (address is null)
        {
            return "-";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var p = port.ToString(CultureInfo.InvariantCulture);
        return address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]:{p}" : $"{address}:{p}";
    }

    private async Task WriteLoopAsync()
    {
        var reader = _channel.Reader;
        TextWriter? output = null;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                try
                {
                    output ??= Open();
                    while (reader.TryRead(out var entry))
                    {
                        await output.WriteLineAsync(Format(entry)).ConfigureAwait(false);
                        Interlocked.Increment(ref _written);
                    }

                    await output.FlushAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    ProxyLog.AccessLogWriteFailed(_logger, _loadBalancerId, Path ?? "stdout", e);
                    if (output is not null && !ReferenceEquals(output, Console.Out))
                    {
                        await output.DisposeAsync().ConfigureAwait(false);
                    }

                    output = null;
                    await Task.Delay(1000).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (output is not null && !ReferenceEquals(output, Console.Out))
            {
                await output.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private TextWriter Open()
    {
        if (Path is null)
        {
            return Console.Out;
        }

        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 4096, FileOptions.Asynchronous);
        return new StreamWriter(stream, new System.Text.UTF8Encoding(false)) { AutoFlush = false, NewLine = "\n" };
    }
}

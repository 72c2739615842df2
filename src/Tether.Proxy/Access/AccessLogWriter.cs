using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Tether.Proxy.Access;

/// <summary>How session persistence decided where a request or connection went, as the connection log writes it.</summary>
internal enum AccessLogDecision : byte
{
    /// <summary><c>none</c>: persistence is off, or no decision was made (no node available, a redirect, an answer
    /// before any decision).</summary>
    None,
    /// <summary><c>hit</c>: a valid cookie or stick-table entry chose the node.</summary>
    Persisted,
    /// <summary><c>hashed</c>: SOURCE_IP consistent hashing chose the node.</summary>
    Hashed,
    /// <summary><c>miss</c>: persistence is on but nothing pinned the client: the algorithm chose the node (and the
    /// client is pinned to it now). With persistence off the same choice is <c>none</c>.</summary>
    Balanced,
    /// <summary><c>repinned</c>: the pinned node was unavailable and the client was moved (fallback).</summary>
    Repinned,
    /// <summary><c>rejected</c>: refused: pinned to an unavailable node without fallback (502), refused by the access
    /// list (connection closed) or over the connection throttle (503, or TCP connection closed).</summary>
    Rejected,
}

/// <summary>How a request or connection ended: the first two characters of HAProxy's termination state (who ended
/// it, and in which phase).</summary>
internal enum AccessLogTermination : byte
{
    /// <summary><c>--</c>: normal end.</summary>
    Normal,
    /// <summary><c>CD</c>: the client went away (or stopped reading) during the exchange.</summary>
    ClientAborted,
    /// <summary><c>SC</c>: the node refused the connection or connecting failed; also no node available (503, node
    /// <c>-</c>).</summary>
    NodeConnect,
    /// <summary><c>sC</c>: connecting to the node timed out.</summary>
    NodeConnectTimeout,
    /// <summary><c>SH</c>: the node reset or closed the connection, or sent a broken answer, before its answer's head
    /// was complete (502).</summary>
    NodeHead,
    /// <summary><c>sH</c>: the node did not send its answer's head within the load balancer's timeout (504).</summary>
    NodeHeadTimeout,
    /// <summary><c>SD</c>: the node broke the connection during the answer's body.</summary>
    NodeData,
    /// <summary><c>sD</c>: the node stopped sending during the answer's body for longer than the timeout.</summary>
    NodeDataTimeout,
    /// <summary><c>PR</c>: Tether refused the request (access list, throttle, persistence without fallback, a bad or
    /// unsupported request).</summary>
    ProxyRefused,
    /// <summary><c>RC</c>: Tether's own connection limits left no connection to the node (503).</summary>
    Resource,
}

/// <summary>The durations of one request, in whole milliseconds; -1 when a phase was not reached or not measured.</summary>
/// <param name="HeadMs">Th: from the first byte of the request head to its end.</param>
/// <param name="ConnectMs">Tc: connecting to the node (0 on a pooled connection).</param>
/// <param name="ResponseMs">Tr: from sending the request to the node until the node's answer head.</param>
/// <param name="TotalMs">Tt: from the first byte of the request (HTTP) or the accept (TCP) to the end.</param>
internal readonly record struct AccessLogTimers(int HeadMs, int ConnectMs, int ResponseMs, long TotalMs)
{
    /// <summary>Only the total is known.</summary>
    public static AccessLogTimers Total(long totalMs) => new(-1, -1, -1, totalMs);
}

/// <summary>One line of the connection log, queued by the request path (a small struct; nothing is formatted
/// there).</summary>
internal readonly record struct AccessLogEntry(
    DateTime Accepted,
    IPAddress? Client,
    int ClientPort,
    int LoadBalancerId,
    int NodeId,
    IPEndPoint? Node,
    string? Method,
    string? Path,
    int Status,
    long BytesIn,
    long BytesOut,
    AccessLogTimers Timers,
    AccessLogDecision Decision,
    AccessLogTermination Termination);

/// <summary>
/// The connection log of one load balancer (Rackspace connection logging; issue 6): a bounded
/// <see cref="Channel{T}"/> filled by the request path with <see cref="TryEnqueue"/> (never blocks; a full channel
/// drops the line and counts it in <see cref="Dropped"/>), drained by one background task that appends to
/// <c>&lt;dataDirectory&gt;/logs/lb-&lt;id&gt;.log</c> (<see cref="ProxyOptions.DataDirectory"/>; standard output when it
/// is not set) and flushes whenever the channel is empty.
/// </summary>
/// <remarks>
/// One line per HTTP request or TCP connection, the fields of HAProxy's <c>httplog</c> in its order, separated by one
/// space, <c>-</c> for a field that does not apply (issue 11):
/// <code>client [accept_date] lb node_id/node Th/Tc/Tr/Tt status bytes_in bytes_out persistence termination "method path"</code>
/// <list type="bullet">
/// <item><c>client</c>: the client's address and port (<c>203.0.113.5:51234</c>, <c>[2001:db8::1]:51234</c>).</item>
/// <item><c>accept_date</c>: when the request's first byte (HTTP) or the connection (TCP) came, ISO 8601 UTC with
/// milliseconds, in brackets.</item>
/// <item><c>lb</c>: the load balancer id.</item>
/// <item><c>node_id/node</c>: the node's id and address:port, or <c>-</c> when no node was used.</item>
/// <item><c>Th/Tc/Tr/Tt</c>: durations in milliseconds (<see cref="AccessLogTimers"/>), -1 when not reached or not
/// measured.</item>
/// <item><c>status</c>: the HTTP status code sent to the client, or <c>-</c> (TCP, a connection closed by the access
/// list, or an answer cut short).</item>
/// <item><c>bytes_in</c>, <c>bytes_out</c>: HTTP: the body bytes read from the client and sent to it (heads not
/// counted); TCP: all bytes from the client and to it.</item>
/// <item><c>persistence</c>: <c>hit</c>, <c>miss</c>, <c>hashed</c>, <c>repinned</c>, <c>rejected</c> or <c>none</c>
/// (<see cref="AccessLogDecision"/>).</item>
/// <item><c>termination</c>: two characters (<see cref="AccessLogTermination"/>).</item>
/// <item><c>"method path"</c>: the request's method and path without the query, in double quotes, bytes outside
/// printable ASCII and <c>"</c> <c>\</c> as <c>%XX</c>, at most 2,048 characters; <c>-</c> for TCP.</item>
/// </list>
/// Example: <c>127.0.0.1:51234 [2026-01-01T00:00:00.123Z] 7 3/127.0.0.1:8080 0/1/2/4 200 0 1234 miss -- "GET /index.html"</c>.
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
        var t = e.Timers;
        var text = new System.Text.StringBuilder(160);
        text.Append(EndPoint(e.Client, e.ClientPort))
            .Append(" [").Append(e.Accepted.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", inv)).Append("] ")
            .Append(e.LoadBalancerId.ToString(inv)).Append(' ');
        if (e.Node is null)
        {
            text.Append('-');
        }
        else
        {
            text.Append(e.NodeId.ToString(inv)).Append('/').Append(EndPoint(e.Node.Address, e.Node.Port));
        }

        text.Append(' ').Append(t.HeadMs.ToString(inv)).Append('/').Append(t.ConnectMs.ToString(inv)).Append('/')
            .Append(t.ResponseMs.ToString(inv)).Append('/').Append(t.TotalMs.ToString(inv))
            .Append(' ').Append(e.Status < 0 ? "-" : e.Status.ToString(inv))
            .Append(' ').Append(e.BytesIn < 0 ? "-" : e.BytesIn.ToString(inv))
            .Append(' ').Append(e.BytesOut < 0 ? "-" : e.BytesOut.ToString(inv))
            .Append(' ').Append(DecisionName(e.Decision))
            .Append(' ').Append(TerminationName(e.Termination))
            .Append(' ');
        if (e.Method is null)
        {
            text.Append('-');
        }
        else
        {
            text.Append('"');
            AppendEscaped(text, e.Method);
            text.Append(' ');
            AppendEscaped(text, e.Path ?? "");
            text.Append('"');
        }

        return text.ToString();
    }

    /// <summary>The longest path a line carries, in characters (longer ones end with <c>...</c>).</summary>
    public const int MaxPathLength = 2048;

    private static void AppendEscaped(System.Text.StringBuilder text, string value)
    {
        var length = Math.Min(value.Length, MaxPathLength);
        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < length; i++)
        {
            var c = value[i];
            if (c is <= ' ' or > '~' or '"' or '\\')
            {
                var n = System.Text.Encoding.UTF8.GetBytes(char.IsSurrogate(c) ? "\uFFFD" : c.ToString(), bytes);
                for (var b = 0; b < n; b++)
                {
                    text.Append('%').Append(bytes[b].ToString("X2", CultureInfo.InvariantCulture));
                }
            }
            else
            {
                text.Append(c);
            }
        }

        if (value.Length > MaxPathLength)
        {
            text.Append("...");
        }
    }

    private static string TerminationName(AccessLogTermination termination) => termination switch
    {
        AccessLogTermination.ClientAborted => "CD",
        AccessLogTermination.NodeConnect => "SC",
        AccessLogTermination.NodeConnectTimeout => "sC",
        AccessLogTermination.NodeHead => "SH",
        AccessLogTermination.NodeHeadTimeout => "sH",
        AccessLogTermination.NodeData => "SD",
        AccessLogTermination.NodeDataTimeout => "sD",
        AccessLogTermination.ProxyRefused => "PR",
        AccessLogTermination.Resource => "RC",
        _ => "--",
    };

    /// <summary>Completes the channel and waits for the queued lines to be written.</summary>
    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private static string DecisionName(AccessLogDecision decision) => decision switch
    {
        AccessLogDecision.Persisted => "hit",
        AccessLogDecision.Hashed => "hashed",
        AccessLogDecision.Balanced => "miss",
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

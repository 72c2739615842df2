using System.Text;
using Tether.Core.LoadBalancing;
using Tether.Core.Runtime;

namespace Tether.Proxy.Http.FastPath;

/// <summary>
/// What the connection log line of the current request says (docs/operations.md): the request line, the node, the
/// status the client got, how persistence decided, bytes each way, the timers and how the request ended. One per
/// connection, reset for each request; its strings are made only while connection logging is on.
/// </summary>
internal sealed class Http1RequestLog
{
    /// <summary>The timestamp (of the forwarder's clock) of the request's first byte, 0 before it.</summary>
    public long HeadStarted;

    /// <summary>When the request was sent to the node (a timestamp).</summary>
    public long SendStarted;

    /// <summary>When the answer's head was complete (a timestamp), 0: never.</summary>
    public long AnswerHeadAt;

    /// <summary>Milliseconds to connect to the node; 0 for a pooled connection, -1: not reached.</summary>
    public int ConnectMs;

    /// <summary>Request body bytes sent to the node.</summary>
    public long BytesIn;

    /// <summary>Answer bytes sent to the client.</summary>
    public long BytesOut;

    /// <summary>True once the final answer's head went to the client.</summary>
    public bool HeadWritten;

    /// <summary>The request's method (common ones are not new strings).</summary>
    public string? Method;

    /// <summary>The request's path without the query.</summary>
    public string? Path;

    /// <summary>How the request ended.</summary>
    public Access.AccessLogTermination Termination;

    /// <summary>The node that answered (or failed).</summary>
    public NodeState? AnsweredBy;

    /// <summary>The status code the client got; -1 (logged "-"): none, the connection was cut.</summary>
    public int AnsweredStatus;

    /// <summary>How persistence decided.</summary>
    public SelectionOutcome AnsweredOutcome;

    /// <summary>Clears the measurements of the previous request (after its head was read).</summary>
    public void StartRequest()
    {
        ConnectMs = -1;
        AnswerHeadAt = 0;
        BytesIn = 0;
        BytesOut = 0;
        HeadWritten = false;
    }

    /// <summary>The method and the path (without the query) of the request line of <paramref name="head"/>, for the
    /// connection log (only while it is on: the path is a new string; common methods are not).</summary>
    public void CaptureRequestLine(ReadOnlySpan<byte> head, int firstLineLength)
    {
        var line = head[..firstLineLength];
        var space = line.IndexOf((byte)' ');
        var method = space < 0 ? line : line[..space];
        Method = method switch
        {
            _ when method.SequenceEqual("GET"u8) => "GET",
            _ when method.SequenceEqual("POST"u8) => "POST",
            _ when method.SequenceEqual("PUT"u8) => "PUT",
            _ when method.SequenceEqual("DELETE"u8) => "DELETE",
            _ when method.SequenceEqual("HEAD"u8) => "HEAD",
            _ when method.SequenceEqual("PATCH"u8) => "PATCH",
            _ when method.SequenceEqual("OPTIONS"u8) => "OPTIONS",
            _ => Encoding.Latin1.GetString(method[..Math.Min(method.Length, 32)]),
        };
        var target = space < 0 ? default : line[(space + 1)..];
        var end = target.IndexOfAny((byte)' ', (byte)'?');
        Path = Encoding.Latin1.GetString(end < 0 ? target : target[..end]);
    }
}

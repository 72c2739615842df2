using System.IO.Pipelines;
using System.Text;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;

namespace Tether.Proxy.Http.FastPath;

/// <summary>
/// Writes the answer's head to the client (Kestrel's output producer): HTTP/1.1, the node's status and fields without
/// the hop-by-hop ones, the persistence cookie when one is issued, <c>Connection: close</c> when the connection ends
/// after it. APP_COOKIE learns (or forgets) the node's cookies here, before the client can send its next request.
/// </summary>
internal sealed class Http1ResponseHeadWriter
{
    private readonly Http1Forwarder _owner;
    private readonly PipeWriter _output;
    private readonly Http1RequestCookies _cookies;

    public Http1ResponseHeadWriter(Http1Forwarder owner, PipeWriter output, Http1RequestCookies cookies)
    {
        _owner = owner;
        _output = output;
        _cookies = cookies;
    }

    /// <summary>Writes the head of <paramref name="headLength"/> bytes at the start of <paramref name="backend"/>'s
    /// buffer (parsed into <paramref name="response"/>) to the client's pipe (not flushed).</summary>
    /// <param name="backend">The node connection that holds the head.</param>
    /// <param name="headLength">The head's length in bytes, with the empty line.</param>
    /// <param name="response">The parsed head.</param>
    /// <param name="selection">The node decision (the persistence cookie to issue).</param>
    /// <param name="node">The node that answered.</param>
    /// <param name="snapshot">The configuration the request runs on.</param>
    /// <param name="closeAfter">Whether the connection ends after this answer.</param>
    /// <param name="interim">An interim (1xx) answer: no cookie, no <c>Connection: close</c>, nothing learnt.</param>
    public void Write(BackendConnection backend, int headLength, ResponseHead response, Selection selection, NodeState node, LoadBalancerSnapshot snapshot,
        bool closeAfter, bool interim)
    {
        var head = backend.Buffer.AsSpan(backend.Start, headLength);
        var setCookie = selection.IssueCookie && !interim ? _owner.Runtime.BuildSetCookie(snapshot, node, selection.SessionId) : null;
        var size = headLength + 64 + (setCookie?.Length ?? 0);
        var span = _output.GetSpan(size);
        var at = 0;
        Put(span, ref at, "HTTP/1.1 "u8);
        Put(span, ref at, head.Slice(response.StatusStart, 3));
        Put(span, ref at, " "u8); // RFC 9112 section 4: the SP after the code is required, even with no reason phrase
        Put(span, ref at, response.FirstLineLength > 13 ? head[13..(response.FirstLineLength + 2)] : "\r\n"u8);
        foreach (ref readonly var field in response.Fields)
        {
            if (Http1Syntax.IsHopByHop(field.Kind))
            {
                continue;
            }

            switch (field.Kind)
            {
                case FieldKind.Other or FieldKind.Cookie or FieldKind.ForwardedFor or FieldKind.ForwardedProto or FieldKind.ForwardedPort or FieldKind.Expect
                    when response.HasConnectionOptions && response.IsListedInConnection(head, field):
                    continue;
                case FieldKind.SetCookie when snapshot.Persistence.LearnsFromAnswer && !interim:
                    _owner.LearnAppCookie(snapshot, node, Encoding.Latin1.GetString(head.Slice(field.ValueStart, field.ValueLength)), _cookies.Pairs);
                    break;
            }

            Put(span, ref at, head.Slice(field.LineStart, field.LineLength + 2));
        }

        if (setCookie is not null)
        {
            Put(span, ref at, "Set-Cookie: "u8);
            at += Encoding.ASCII.GetBytes(setCookie, span[at..]);
            Put(span, ref at, "\r\n"u8);
        }

        if (closeAfter && !interim)
        {
            Put(span, ref at, "Connection: close\r\n"u8);
        }

        Put(span, ref at, "\r\n"u8);
        _output.Advance(at);
    }

    private static void Put(Span<byte> span, ref int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(span[at..]);
        at += bytes.Length;
    }
}

using System.Net;
using System.Text;

namespace Tether.Proxy.Http.FastPath;

/// <summary>
/// Writes the request head sent to the node (docs/security.md, "What the node receives") into a buffer of the
/// connection, grown to the largest head seen: the request line and every field line byte for byte as the client
/// sent them, in order, except that the hop-by-hop fields and the fields named by Connection are removed (RFC 9110
/// section 7.6.1; Host, Content-Length and Transfer-Encoding never are), a Content-Length repeated with the same value
/// is sent once (RFC 9110 section 8.6), and the client's X-Forwarded-For/-Proto/-Port lines are removed; then one
/// <c>X-Forwarded-For</c> line with the client's values (each field's value without its optional whitespace, empty
/// ones skipped, joined with ", ") and the client's address last (HAProxy's <c>option forwardfor</c>),
/// <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Port</c> from the listener, and the empty line.
/// </summary>
internal sealed class Http1RequestHeadWriter
{
    private readonly byte[] _forwardedFor;
    private readonly byte[] _forwardedProtoAndPort;
    // 1 KiB holds most request heads; a bigger one doubles it once for the connection (an idle keep-alive connection
    // holds it: 4 KiB each before, issue 16).
    private byte[] _out = new byte[1024];
    private int _outLength;

    /// <param name="client">The client's address (IPv4-mapped addresses as IPv4), or null.</param>
    /// <param name="isHttps">Whether the listener terminates TLS (<c>X-Forwarded-Proto</c>).</param>
    /// <param name="port">The listener's port (<c>X-Forwarded-Port</c>).</param>
    public Http1RequestHeadWriter(IPAddress? client, bool isHttps, int port)
    {
        _forwardedFor = Encoding.ASCII.GetBytes(client?.ToString() ?? string.Empty);
        _forwardedProtoAndPort = Encoding.ASCII.GetBytes(string.Concat(
            "X-Forwarded-Proto: ", isHttps ? "https" : "http", "\r\nX-Forwarded-Port: ", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "\r\n"));
    }

    /// <summary>The head written last.</summary>
    public ReadOnlyMemory<byte> Head => _out.AsMemory(0, _outLength);

    /// <summary>Writes the head for the node from the client's <paramref name="head"/> (parsed into
    /// <paramref name="request"/>).</summary>
    public void Write(ReadOnlySpan<byte> head, RequestHead request)
    {
        _outLength = 0;
        Append(head[..(request.FirstLineLength + 2)]);
        var contentLength = false;
        foreach (ref readonly var field in request.Fields)
        {
            if (Http1Syntax.IsHopByHop(field.Kind))
            {
                continue;
            }

            switch (field.Kind)
            {
                case FieldKind.ForwardedFor:
                case FieldKind.ForwardedProto:
                case FieldKind.ForwardedPort:
                    continue;
                case FieldKind.ContentLength:
                    // The parser refused differing values; a repeat of the same value is sent once.
                    if (!contentLength)
                    {
                        contentLength = true;
                        AppendLine(head, field);
                    }

                    continue;
                case FieldKind.Host or FieldKind.TransferEncoding:
                    // Framing and Host are never dropped, even when named by Connection: dropping the framing while
                    // forwarding the body would smuggle the body to the node as a request of its own.
                    AppendLine(head, field);
                    continue;
                case var _ when request.HasConnectionOptions && request.IsListedInConnection(head, field):
                    continue;
                default:
                    AppendLine(head, field);
                    continue;
            }
        }

        Append("X-Forwarded-For: "u8);
        if (request.ForwardedForCount > 0)
        {
            foreach (ref readonly var field in request.Fields)
            {
                if (field.Kind == FieldKind.ForwardedFor && field.ValueLength > 0)
                {
                    Append(head.Slice(field.ValueStart, field.ValueLength));
                    Append(", "u8);
                }
            }
        }

        Append(_forwardedFor);
        Append("\r\n"u8);
        Append(_forwardedProtoAndPort);
        Append("\r\n"u8);
    }

    /// <summary>Appends <paramref name="field"/>'s line as the client sent it, with its CRLF.</summary>
    private void AppendLine(ReadOnlySpan<byte> head, in HeaderField field) => Append(head.Slice(field.LineStart, field.LineLength + 2));

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_outLength + bytes.Length > _out.Length)
        {
            Array.Resize(ref _out, Math.Max(_outLength + bytes.Length, _out.Length * 2));
        }

        bytes.CopyTo(_out.AsSpan(_outLength));
        _outLength += bytes.Length;
    }
}

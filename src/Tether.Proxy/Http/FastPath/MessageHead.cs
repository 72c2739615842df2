namespace Tether.Proxy.Http.FastPath;

/// <summary>The verdict on a parsed head.</summary>
internal enum HeadStatus
{
    /// <summary>Well formed, and the fast path serves it.</summary>
    Ok,
    /// <summary>Well formed, but something the fast path leaves to Kestrel's HTTP stack (HTTP/1.0, Upgrade, Expect,
    /// an absolute-form target, more than
    /// <see cref="MessageHead.MaxConnectionOptions"/> Connection options).</summary>
    HandOver,
    /// <summary>Malformed: 400 for a request, 502 for a response.</summary>
    Invalid,
    /// <summary>More header lines or bytes than the limit: 431 for a request, 502 for a response.</summary>
    TooManyFields,
    /// <summary>A request line longer than the limit: 414.</summary>
    LineTooLong,
    /// <summary>Well formed, but asking for what a reverse proxy does not do: 501 (RFC 9110 section 15.6.2). CONNECT
    /// (Tether is no forward proxy) and a request transfer coding other than chunked alone (RFC 9112 section 6.1:
    /// dropping it would hand the node coded bytes as if they were plain).</summary>
    NotImplemented,
}

/// <summary>
/// The parsed head of one HTTP/1.1 message (RFC 9112 sections 2-6): offsets into the head's bytes, which the caller
/// keeps until it has written what it needs. One instance per connection, reused for every message.
/// </summary>
/// <remarks>
/// Strict on what decides framing and routing, as RFC 9112 asks of a proxy: lines end with CRLF (a bare CR or LF is
/// refused), no whitespace between a field name and its colon (section 5.1), no obs-fold (section 5.2), field values
/// without control characters; Content-Length digits only, repeated only with the same value; Content-Length together
/// with Transfer-Encoding is refused (section 6.1 allows a server to, and it is what request smuggling needs).
/// </remarks>
internal abstract class MessageHead
{
    /// <summary>The fields array a head starts with (28 bytes each): enough for most messages; it doubles up to the
    /// head's limit the first time one needs more, and stays that size for the connection. An idle keep-alive connection
    /// holds two heads, so they start small (issue 16: 8.4 KiB per connection when both were allocated at their limits).</summary>
    public const int InitialFields = 16;

    private readonly int _maxFields;
    private HeaderField[] _fields;

    protected MessageHead(int maxFields)
    {
        _maxFields = maxFields;
        _fields = new HeaderField[Math.Min(InitialFields, maxFields)];
    }

    /// <summary>The header fields, in order.</summary>
    public ReadOnlySpan<HeaderField> Fields => _fields.AsSpan(0, FieldCount);

    public int FieldCount { get; private set; }

    /// <summary>The end of the first line (the offset of its CR).</summary>
    public int FirstLineLength { get; protected set; }

    /// <summary>Content-Length, or -1 without one.</summary>
    public long ContentLength { get; private set; }

    /// <summary>Transfer-Encoding is exactly <c>chunked</c>.</summary>
    public bool Chunked { get; private set; }

    /// <summary>A Transfer-Encoding other than <c>chunked</c> alone.</summary>
    public bool OtherTransferCoding { get; private set; }

    /// <summary>A Transfer-Encoding whose final coding is chunked (alone or after others).</summary>
    public bool FinalChunked { get; private set; }

    /// <summary><c>Connection: close</c>.</summary>
    public bool ConnectionClose { get; private set; }

    /// <summary><c>Connection: keep-alive</c>.</summary>
    public bool ConnectionKeepAlive { get; private set; }

    /// <summary>More Connection options naming other fields than <see cref="MaxConnectionOptions"/>.</summary>
    public bool ConnectionOther { get; private set; }

    /// <summary>The most Connection options naming fields that the fast path removes itself (RFC 9110 section 7.6.1);
    /// a message with more goes to Kestrel's HTTP stack.</summary>
    public const int MaxConnectionOptions = 8;

    private readonly (int Start, int Length)[] _connectionOptions = new (int, int)[MaxConnectionOptions];
    private int _connectionOptionCount;

    /// <summary>True when <paramref name="field"/> is named by a Connection option, so that it is hop-by-hop and not
    /// forwarded (RFC 9110 section 7.6.1).</summary>
    public bool IsListedInConnection(ReadOnlySpan<byte> head, in HeaderField field)
    {
        var name = head.Slice(field.NameStart, field.NameLength);
        for (var i = 0; i < _connectionOptionCount; i++)
        {
            var option = head.Slice(_connectionOptions[i].Start, _connectionOptions[i].Length);
            if (option.Length == name.Length && System.Text.Ascii.EqualsIgnoreCase(option, name))
            {
                return true;
            }
        }

        if (!ConnectionOther)
        {
            return false;
        }

        // More options than kept (a node's answer; such a request goes to Kestrel): every Connection field is read again.
        foreach (ref readonly var connection in Fields)
        {
            if (connection.Kind != FieldKind.Connection)
            {
                continue;
            }

            var options = new Http1Syntax.ListEnumerator(head.Slice(connection.ValueStart, connection.ValueLength));
            while (options.MoveNext())
            {
                if (options.Current.Length == name.Length && System.Text.Ascii.EqualsIgnoreCase(options.Current, name))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Whether some Connection option names another field.</summary>
    public bool HasConnectionOptions => _connectionOptionCount > 0;

    /// <summary>How many Host fields.</summary>
    public int HostCount { get; private set; }

    /// <summary>Upgrade or Expect present.</summary>
    public bool UpgradeOrExpect { get; private set; }

    /// <summary>How many Cookie (request) or Set-Cookie (response) fields.</summary>
    public int CookieCount { get; private set; }

    /// <summary>How many X-Forwarded-For fields.</summary>
    public int ForwardedForCount { get; private set; }

    /// <summary>Parses the header field lines of <paramref name="head"/> from <paramref name="start"/> to the empty
    /// line that ends the head.</summary>
    protected HeadStatus ParseFields(ReadOnlySpan<byte> head, int start)
    {
        FieldCount = 0;
        ContentLength = -1;
        Chunked = OtherTransferCoding = FinalChunked = ConnectionClose = ConnectionKeepAlive = ConnectionOther = UpgradeOrExpect = false;
        HostCount = CookieCount = ForwardedForCount = _connectionOptionCount = 0;
        var transferEncodings = 0;
        var position = start;
        while (true)
        {
            var lineLength = LineLength(head, position);
            if (lineLength < 0)
            {
                return HeadStatus.Invalid;
            }

            if (lineLength == 0)
            {
                break;
            }

            var line = head.Slice(position, lineLength);
            if (line[0] == ' ' || line[0] == '\t')
            {
                return HeadStatus.Invalid; // obs-fold (RFC 9112 section 5.2)
            }

            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || !Http1Syntax.IsTokenSpan(line[..colon]))
            {
                return HeadStatus.Invalid; // no name, or whitespace before the colon (section 5.1)
            }

            var rawValue = line[(colon + 1)..];
            if (!Http1Syntax.IsFieldValue(rawValue))
            {
                return HeadStatus.Invalid;
            }

            if (FieldCount == _fields.Length)
            {
                if (FieldCount == _maxFields)
                {
                    return HeadStatus.TooManyFields;
                }

                Array.Resize(ref _fields, Math.Min(_fields.Length * 2, _maxFields));
            }

            var value = Http1Syntax.TrimOws(rawValue);
            var valueStart = position + colon + 1 + (value.IsEmpty ? 0 : rawValue.IndexOf(value));
            var kind = Http1Syntax.KindOf(line[..colon]);
            _fields[FieldCount++] = new HeaderField
            {
                NameStart = position,
                NameLength = colon,
                ValueStart = valueStart,
                ValueLength = value.Length,
                LineStart = position,
                LineLength = lineLength,
                Kind = kind,
            };

            switch (kind)
            {
                case FieldKind.Host:
                    HostCount++;
                    break;
                case FieldKind.ContentLength:
                    if (!Http1Syntax.TryParseContentLength(value, out var length) || (ContentLength >= 0 && ContentLength != length))
                    {
                        return HeadStatus.Invalid;
                    }

                    ContentLength = length;
                    break;
                case FieldKind.TransferEncoding:
                    transferEncodings++;
                    ReadTransferEncoding(value);
                    break;
                case FieldKind.Connection:
                    ReadConnection(value, valueStart);
                    break;
                case FieldKind.Upgrade:
                case FieldKind.Expect:
                    UpgradeOrExpect = true;
                    break;
                case FieldKind.Cookie:
                case FieldKind.SetCookie:
                    CookieCount++;
                    break;
                case FieldKind.ForwardedFor:
                    ForwardedForCount++;
                    break;
            }

            position += lineLength + 2;
        }

        if (transferEncodings > 1)
        {
            OtherTransferCoding = true;
            Chunked = false;
        }

        // Content-Length with Transfer-Encoding: the framing is ambiguous between hops, the shape of request smuggling.
        return transferEncodings > 0 && ContentLength >= 0 ? HeadStatus.Invalid : HeadStatus.Ok;
    }

    /// <summary>The length of the line at <paramref name="start"/> without its CRLF; -1 when it holds a bare CR or LF.</summary>
    protected static int LineLength(ReadOnlySpan<byte> head, int start)
    {
        var rest = head[start..];
        var lf = rest.IndexOf((byte)'\n');
        if (lf < 1 || rest[lf - 1] != '\r')
        {
            return -1;
        }

        var length = lf - 1;
        return rest[..length].IndexOf((byte)'\r') >= 0 ? -1 : length;
    }

    private void ReadTransferEncoding(ReadOnlySpan<byte> value)
    {
        var codings = new Http1Syntax.ListEnumerator(value);
        var count = 0;
        var lastChunked = false;
        while (codings.MoveNext())
        {
            count++;
            lastChunked = Http1Syntax.EqualsIgnoreCase(codings.Current, "chunked"u8);
        }

        if (count == 0)
        {
            // An empty field adds no coding to the list (RFC 9110 section 5.6.1: empty elements do not count); alone,
            // it frames nothing and is refused (a request: 400; an answer: read until the close).
            OtherTransferCoding |= !Chunked && !FinalChunked;
            return;
        }

        FinalChunked = lastChunked;
        Chunked = count == 1 && lastChunked;
        OtherTransferCoding = !Chunked;
    }

    private void ReadConnection(ReadOnlySpan<byte> value, int valueStart)
    {
        var options = new Http1Syntax.ListEnumerator(value);
        while (options.MoveNext())
        {
            var option = options.Current;
            if (Http1Syntax.EqualsIgnoreCase(option, "close"u8))
            {
                ConnectionClose = true;
            }
            else if (Http1Syntax.EqualsIgnoreCase(option, "keep-alive"u8))
            {
                ConnectionKeepAlive = true;
            }
            else if (Http1Syntax.EqualsIgnoreCase(option, "upgrade"u8))
            {
                UpgradeOrExpect = true;
            }
            else if (_connectionOptionCount < MaxConnectionOptions)
            {
                _connectionOptions[_connectionOptionCount++] = (valueStart + options.CurrentStart, option.Length);
            }
            else
            {
                ConnectionOther = true;
            }
        }
    }
}

/// <summary>A parsed request head (RFC 9112 section 3): method, origin-form target, version, fields.</summary>
internal sealed class RequestHead() : MessageHead(MaxFields)
{
    /// <summary>The most header fields a request may carry (Kestrel's default limit); more is 431.</summary>
    public const int MaxFields = 100;

    /// <summary>The method is HEAD (the answer has no body).</summary>
    public bool IsHead { get; private set; }

    /// <summary>The method is idempotent (RFC 9110 section 9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE), so a
    /// proxy may send it again after a connection failed under it (RFC 9112 section 9.3.1).</summary>
    public bool IsIdempotent { get; private set; }

    /// <summary>Parses <paramref name="head"/> (the request line through the empty line, CRLF included).</summary>
    public HeadStatus Parse(ReadOnlySpan<byte> head)
    {
        FirstLineLength = 0;
        var lineLength = LineLength(head, 0);
        if (lineLength <= 0)
        {
            return HeadStatus.Invalid;
        }

        FirstLineLength = lineLength;
        var line = head[..lineLength];
        var sp1 = line.IndexOf((byte)' ');
        if (sp1 <= 0 || !Http1Syntax.IsTokenSpan(line[..sp1]))
        {
            return HeadStatus.Invalid;
        }

        var method = line[..sp1];
        var rest = line[(sp1 + 1)..];
        var sp2 = rest.IndexOf((byte)' ');
        if (sp2 <= 0)
        {
            return HeadStatus.Invalid;
        }

        var target = rest[..sp2];
        var version = rest[(sp2 + 1)..];
        foreach (var b in target)
        {
            if (b <= 0x20 || b == 0x7F)
            {
                return HeadStatus.Invalid;
            }
        }

        var isHttp11 = version.SequenceEqual("HTTP/1.1"u8);
        if (!isHttp11 && !version.SequenceEqual("HTTP/1.0"u8))
        {
            // HTTP/2's connection preface ("PRI * HTTP/2.0") and anything else Kestrel knows better.
            return version.StartsWith("HTTP/"u8) ? HeadStatus.HandOver : HeadStatus.Invalid;
        }

        IsHead = method.SequenceEqual("HEAD"u8);
        IsIdempotent = IsHead || method.SequenceEqual("GET"u8) || method.SequenceEqual("PUT"u8) || method.SequenceEqual("DELETE"u8)
            || method.SequenceEqual("OPTIONS"u8) || method.SequenceEqual("TRACE"u8);
        var status = ParseFields(head, lineLength + 2);
        if (status != HeadStatus.Ok)
        {
            return status;
        }

        if (isHttp11 && HostCount != 1)
        {
            return HeadStatus.Invalid; // RFC 9112 section 3.2: exactly one Host in HTTP/1.1
        }

        foreach (ref readonly var field in Fields)
        {
            if (field.Kind == FieldKind.Host && !Http1Syntax.IsValidHost(head.Slice(field.ValueStart, field.ValueLength)))
            {
                return HeadStatus.Invalid; // RFC 9112 section 3.2: 400 for an invalid Host value
            }
        }

        if (OtherTransferCoding)
        {
            // A request whose final coding is not chunked cannot be framed (RFC 9112 section 6.3): 400. Other codings
            // before chunked: 501 (section 6.1), as the Kestrel path answers too.
            return FinalChunked ? HeadStatus.NotImplemented : HeadStatus.Invalid;
        }

        if (method.SequenceEqual("CONNECT"u8))
        {
            return HeadStatus.NotImplemented;
        }

        if (target.Length == 1 && target[0] == '*')
        {
            // asterisk-form: OPTIONS only (RFC 9112 section 3.2.4), forwarded as it came.
            return !method.SequenceEqual("OPTIONS"u8) ? HeadStatus.Invalid : isHttp11 && !UpgradeOrExpect && !ConnectionOther ? HeadStatus.Ok : HeadStatus.HandOver;
        }

        var handOver = !isHttp11 || target[0] != '/' || UpgradeOrExpect || ConnectionOther;
        return handOver ? HeadStatus.HandOver : HeadStatus.Ok;
    }
}

/// <summary>A parsed response head (RFC 9112 section 4): status code, fields.</summary>
internal sealed class ResponseHead() : MessageHead(MaxFields)
{
    /// <summary>The most header fields a node's response may carry; more is 502.</summary>
    public const int MaxFields = 200;

    /// <summary>The status code.</summary>
    public int StatusCode { get; private set; }

    /// <summary>The node answered HTTP/1.0 (its connection is not reused unless it says keep-alive).</summary>
    public bool IsHttp10 { get; private set; }

    /// <summary>Where the status line's text after the version starts (the status code).</summary>
    public const int StatusStart = 9;

    /// <summary>Parses <paramref name="head"/> (the status line through the empty line, CRLF included).</summary>
    public HeadStatus Parse(ReadOnlySpan<byte> head)
    {
        var lineLength = LineLength(head, 0);
        if (lineLength < 12)
        {
            return HeadStatus.Invalid;
        }

        FirstLineLength = lineLength;
        var line = head[..lineLength];
        if (line.StartsWith("HTTP/1.1 "u8))
        {
            IsHttp10 = false;
        }
        else if (line.StartsWith("HTTP/1.0 "u8))
        {
            IsHttp10 = true;
        }
        else
        {
            return HeadStatus.Invalid;
        }

        var code = 0;
        for (var i = 9; i < 12; i++)
        {
            var digit = (uint)(line[i] - '0');
            if (digit > 9)
            {
                return HeadStatus.Invalid;
            }

            code = (code * 10) + (int)digit;
        }

        if (code < 100 || (lineLength > 12 && line[12] != ' '))
        {
            return HeadStatus.Invalid;
        }

        foreach (var b in line[12..])
        {
            if (b < 0x20 && b != '\t' || b == 0x7F)
            {
                return HeadStatus.Invalid;
            }
        }

        StatusCode = code;
        return ParseFields(head, lineLength + 2);
    }
}

using System.Text;
using Tether.Proxy.Http.FastPath;

namespace Tether.Fuzz;

/// <summary>A broken invariant of a fast path parser: the fuzzer counts it as a crash, the replay test as a failure.</summary>
public sealed class InvariantException(string message) : Exception(message);

/// <summary>
/// The fuzz targets of the HTTP/1.1 fast path's parsers (<see cref="RequestHead"/>, <see cref="ResponseHead"/>,
/// <see cref="ChunkedBodyReader"/>) and the invariants they must keep, in one place: fuzz/Tether.Fuzz runs them under
/// AFL, tests/Tether.Proxy.Tests (which compiles this file too) replays fuzz/corpus through them.
/// </summary>
/// <remarks>
/// The first byte of an input chooses the target (its value modulo 3, so the seeds start with an ASCII digit):
/// <list type="bullet">
/// <item><c>0</c>: request head; the rest of the input is given to <see cref="RequestHead.Parse"/>.</item>
/// <item><c>1</c>: response head; the rest to <see cref="ResponseHead.Parse"/>.</item>
/// <item><c>2</c>: chunked body; the second byte seeds how the rest is split between calls of
/// <see cref="ChunkedBodyReader.Advance"/>.</item>
/// </list>
/// No invariant is checked against the parsers' own helpers: names, digits, lists and lines are read again here.
/// </remarks>
public static class FuzzTargets
{
    /// <summary>Runs one input; throws <see cref="InvariantException"/> when an invariant does not hold (and lets any
    /// exception of a parser through, which is a bug too).</summary>
    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        var data = input[1..];
        switch (input[0] % 3)
        {
            case 0:
                Request(data);
                break;
            case 1:
                Response(data);
                break;
            default:
                if (!data.IsEmpty)
                {
                    Chunked(data[0], data[1..]);
                }

                break;
        }
    }

    // A head that sets every property, parsed first by the reused instance, so that stale state shows.
    private static readonly byte[] DirtyRequest = Encoding.ASCII.GetBytes(
        "HEAD /dirty HTTP/1.1\r\nHost: dirty\r\nContent-Length: 12\r\nConnection: close, keep-alive, x-a, x-b\r\n" +
        "X-A: 1\r\nCookie: a=b\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n");

    private static readonly byte[] DirtyResponse = Encoding.ASCII.GetBytes(
        "HTTP/1.0 299 Dirty\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close, keep-alive, x-a\r\nX-A: 1\r\n" +
        "Set-Cookie: a=b\r\nUpgrade: h2c\r\n\r\n");

    /// <summary>The request head target.</summary>
    public static void Request(ReadOnlySpan<byte> data)
    {
        var fresh = new RequestHead();
        var status = fresh.Parse(data);
        Check(status, fresh, data, request: true);

        // What the connection gives the parser: the bytes through the first empty line, and a reused instance.
        var end = data.IndexOf("\r\n\r\n"u8);
        if (end >= 0)
        {
            var head = data[..(end + 4)];
            var reused = new RequestHead();
            Require(reused.Parse(DirtyRequest) == HeadStatus.Ok, "the dirty request parses");
            var headStatus = reused.Parse(head);
            Require(headStatus == status, $"bytes after the empty line change the status ({status} with them, {headStatus} without)");
            Require(reused.FirstLineLength == fresh.FirstLineLength, "FirstLineLength depends on the previous request (the connection reads it whatever the status)");
            if (status == HeadStatus.Ok)
            {
                Same(fresh, reused, head);
                Require(fresh.IsHead == reused.IsHead && fresh.IsIdempotent == reused.IsIdempotent, "IsHead/IsIdempotent depend on the previous request");
            }
        }
    }

    /// <summary>The response head target.</summary>
    public static void Response(ReadOnlySpan<byte> data)
    {
        var fresh = new ResponseHead();
        var status = fresh.Parse(data);
        Check(status, fresh, data, request: false);
        var end = data.IndexOf("\r\n\r\n"u8);
        if (end >= 0)
        {
            var head = data[..(end + 4)];
            var reused = new ResponseHead();
            Require(reused.Parse(DirtyResponse) == HeadStatus.Ok, "the dirty response parses");
            var headStatus = reused.Parse(head);
            Require(headStatus == status, $"bytes after the empty line change the status ({status} with them, {headStatus} without)");
            if (status == HeadStatus.Ok)
            {
                Same(fresh, reused, head);
                Require(fresh.StatusCode == reused.StatusCode && fresh.IsHttp10 == reused.IsHttp10, "the status line depends on the previous response");
            }
        }
    }

    private static void Check(HeadStatus status, MessageHead parsed, ReadOnlySpan<byte> data, bool request)
    {
        Require(Enum.IsDefined(status), $"unknown status {status}");
        Require(parsed.FieldCount <= (request ? RequestHead.MaxFields : ResponseHead.MaxFields), "more fields than the limit");
        Require(parsed.FirstLineLength >= 0 && parsed.FirstLineLength <= data.Length, "FirstLineLength outside the input");
        if (status == HeadStatus.Ok)
        {
            CheckOkHead(parsed, data, request);
        }
    }

    /// <summary>What an Ok head promises the connection that forwards it.</summary>
    private static void CheckOkHead(MessageHead parsed, ReadOnlySpan<byte> data, bool request)
    {
        // The head ends at the first empty line, every line of it ends with CRLF, and there is no bare CR or LF.
        var end = data.IndexOf("\r\n\r\n"u8);
        Require(end >= 0, "Ok without an empty line");
        var head = data[..(end + 4)];
        for (var i = 0; i < head.Length; i++)
        {
            if (head[i] == '\r')
            {
                Require(i + 1 < head.Length && head[i + 1] == '\n', $"bare CR at {i} in an Ok head");
            }
            else if (head[i] == '\n')
            {
                Require(i > 0 && head[i - 1] == '\r', $"bare LF at {i} in an Ok head");
            }
        }

        var firstLine = parsed.FirstLineLength;
        Require(firstLine > 0 && firstLine <= end && head[firstLine] == '\r' && head[firstLine + 1] == '\n', "FirstLineLength is not the first line's CR");
        Require(head[..firstLine].IndexOf((byte)'\n') < 0, "FirstLineLength beyond the first line");

        // The fields: contiguous lines from the first line to the empty line, offsets inside their line.
        var fields = parsed.Fields;
        Require(fields.Length == parsed.FieldCount, "Fields.Length != FieldCount");
        var position = firstLine + 2;
        var hosts = 0;
        var cookies = 0;
        var forwardedFor = 0;
        var contentLength = -1L;
        var transferEncodings = 0;
        var codings = new List<string>();
        var upgradeOrExpect = false;
        var close = false;
        var keepAlive = false;
        var options = new List<string>();
        foreach (var field in fields)
        {
            Require(field.LineStart == position, $"field line at {field.LineStart}, expected {position}");
            Require(field.LineLength > 0 && field.LineStart + field.LineLength + 2 <= end + 2, "field line beyond the head");
            Require(head[field.LineStart + field.LineLength] == '\r' && head[field.LineStart + field.LineLength + 1] == '\n', "field line does not end with CRLF");
            Require(field.NameStart == field.LineStart && field.NameLength > 0, "field name does not start the line");
            Require(field.NameStart + field.NameLength < field.LineStart + field.LineLength + 1 && head[field.NameStart + field.NameLength] == ':', "no colon right after the name");
            var name = head.Slice(field.NameStart, field.NameLength);
            foreach (var b in name)
            {
                Require(IsTchar(b), $"byte 0x{b:X2} in a field name");
            }

            var lineEnd = field.LineStart + field.LineLength;
            var colon = field.NameStart + field.NameLength;
            Require(field.ValueStart > colon && field.ValueLength >= 0 && field.ValueStart + field.ValueLength <= lineEnd, "value outside its line");
            foreach (var b in head[(colon + 1)..field.ValueStart])
            {
                Require(b is (byte)' ' or (byte)'\t', "non-whitespace between the colon and the value");
            }

            foreach (var b in head[(field.ValueStart + field.ValueLength)..lineEnd])
            {
                Require(b is (byte)' ' or (byte)'\t', "non-whitespace after the value");
            }

            var valueBytes = head.Slice(field.ValueStart, field.ValueLength);
            if (!valueBytes.IsEmpty)
            {
                Require(valueBytes[0] is not ((byte)' ' or (byte)'\t') && valueBytes[^1] is not ((byte)' ' or (byte)'\t'), "value not trimmed");
            }

            foreach (var b in valueBytes)
            {
                Require((b >= 0x20 && b != 0x7F) || b == '\t', $"control byte 0x{b:X2} in a field value");
            }

            var nameText = Encoding.Latin1.GetString(name).ToLowerInvariant();
            var value = Encoding.Latin1.GetString(valueBytes);
            Require(field.Kind == KindOf(nameText), $"field '{nameText}' has kind {field.Kind}");
            switch (nameText)
            {
                case "host":
                    hosts++;
                    break;
                case "cookie" or "set-cookie":
                    cookies++;
                    break;
                case "x-forwarded-for":
                    forwardedFor++;
                    break;
                case "upgrade" or "expect":
                    upgradeOrExpect = true;
                    break;
                case "content-length":
                    Require(value.Length is >= 1 and <= 18 && value.All(char.IsAsciiDigit), $"Content-Length '{value}' is not 1 to 18 digits");
                    var length = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                    Require(contentLength < 0 || contentLength == length, "Content-Length fields with different values");
                    contentLength = length;
                    break;
                case "transfer-encoding":
                    transferEncodings++;
                    codings.AddRange(ListElements(value));
                    break;
                case "connection":
                    foreach (var option in ListElements(value).Select(o => o.ToLowerInvariant()))
                    {
                        switch (option)
                        {
                            case "close":
                                close = true;
                                break;
                            case "keep-alive":
                                keepAlive = true;
                                break;
                            case "upgrade":
                                upgradeOrExpect = true;
                                break;
                            default:
                                options.Add(option);
                                break;
                        }
                    }

                    break;
            }

            position = lineEnd + 2;
        }

        Require(position == end + 2, "the fields do not reach the empty line");
        Require(parsed.HostCount == hosts, $"HostCount {parsed.HostCount}, {hosts} Host fields");
        Require(parsed.CookieCount == cookies, $"CookieCount {parsed.CookieCount}, {cookies} cookie fields");
        Require(parsed.ForwardedForCount == forwardedFor, $"ForwardedForCount {parsed.ForwardedForCount}, {forwardedFor} X-Forwarded-For fields");
        Require(parsed.ContentLength == contentLength, $"ContentLength {parsed.ContentLength}, the digits say {contentLength}");
        Require(parsed.ConnectionClose == close && parsed.ConnectionKeepAlive == keepAlive, "Connection close/keep-alive misread");
        Require(parsed.UpgradeOrExpect == upgradeOrExpect, "UpgradeOrExpect misread");
        Require(parsed.ConnectionOther == options.Count > MessageHead.MaxConnectionOptions, "ConnectionOther misread");
        Require(parsed.HasConnectionOptions == options.Count > 0, "HasConnectionOptions misread");
        foreach (var field in fields)
        {
            var name = Encoding.Latin1.GetString(head.Slice(field.NameStart, field.NameLength)).ToLowerInvariant();
            var listed = options.Contains(name);
            Require(parsed.IsListedInConnection(head, field) == listed, $"IsListedInConnection({name}) is {!listed}");
        }

        // Framing: never both lengths (RFC 9112 section 6.1); the transfer codings read as one list (RFC 9110 section 5.3).
        Require(transferEncodings == 0 || contentLength < 0, "Ok with both Content-Length and Transfer-Encoding");
        var chunkedAlone = transferEncodings == 1 && codings.Count == 1 && codings[0].Equals("chunked", StringComparison.OrdinalIgnoreCase);
        var finalChunked = codings.Count > 0 && codings[^1].Equals("chunked", StringComparison.OrdinalIgnoreCase);
        Require(parsed.Chunked == chunkedAlone, $"Chunked is {parsed.Chunked} for codings [{string.Join(", ", codings)}] in {transferEncodings} fields");
        Require(parsed.OtherTransferCoding == (transferEncodings > 0 && !chunkedAlone), "OtherTransferCoding misread");
        Require(parsed.FinalChunked == finalChunked, $"FinalChunked is {parsed.FinalChunked} for codings [{string.Join(", ", codings)}]");

        var line = Encoding.Latin1.GetString(head[..firstLine]);
        if (request)
        {
            // Only what the fast path can forward as it is: origin-form (or OPTIONS *), HTTP/1.1, one valid Host, chunked alone.
            var request1 = (RequestHead)parsed;
            var parts = line.Split(' ');
            Require(parts.Length == 3, $"request line '{line}' is not three parts");
            Require(parts[0].Length > 0 && parts[0].All(c => IsTchar((byte)c)) && parts[0] != "CONNECT", $"method '{parts[0]}'");
            Require((parts[1].StartsWith('/') || (parts[1] == "*" && parts[0] == "OPTIONS")) && parts[1].All(c => c > 0x20 && c != 0x7F), $"target '{parts[1]}'");
            Require(parts[2] == "HTTP/1.1", $"version '{parts[2]}'");
            Require(hosts == 1, "Ok request without exactly one Host");
            foreach (var field in fields)
            {
                if (field.Kind == FieldKind.Host)
                {
                    foreach (var b in head.Slice(field.ValueStart, field.ValueLength))
                    {
                        Require(char.IsAsciiLetterOrDigit((char)b) || "-._~%!$&'()*+,;=[]:".Contains((char)b, StringComparison.Ordinal), $"byte 0x{b:X2} in an Ok Host");
                    }
                }
            }

            Require(!upgradeOrExpect, "Ok request with Upgrade or Expect");
            Require(!parsed.ConnectionOther, "Ok request with too many Connection options");
            Require(transferEncodings == 0 || chunkedAlone, "Ok request with a transfer coding other than chunked alone");
            Require(request1.IsHead == (parts[0] == "HEAD"), "IsHead misread");
            string[] idempotent = ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"];
            Require(request1.IsIdempotent == idempotent.Contains(parts[0]), "IsIdempotent misread");
        }
        else
        {
            var response = (ResponseHead)parsed;
            Require(line.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) || line.StartsWith("HTTP/1.0 ", StringComparison.Ordinal), $"status line '{line}'");
            Require(response.IsHttp10 == line.StartsWith("HTTP/1.0", StringComparison.Ordinal), "IsHttp10 misread");
            Require(line.Length >= 12 && line[9..12].All(char.IsAsciiDigit), $"status line '{line}' without a code");
            Require(response.StatusCode == int.Parse(line[9..12], System.Globalization.CultureInfo.InvariantCulture) && response.StatusCode >= 100, "StatusCode misread");
            Require(line.Length == 12 || line[12] == ' ', "no space after the status code");
            Require(line.Skip(12).All(c => (c >= 0x20 && c != 0x7F) || c == '\t'), "control byte in the reason phrase");
        }
    }

    private static void Same(MessageHead a, MessageHead b, ReadOnlySpan<byte> head)
    {
        Require(a.FieldCount == b.FieldCount && a.FirstLineLength == b.FirstLineLength && a.ContentLength == b.ContentLength
            && a.Chunked == b.Chunked && a.OtherTransferCoding == b.OtherTransferCoding && a.FinalChunked == b.FinalChunked
            && a.ConnectionClose == b.ConnectionClose && a.ConnectionKeepAlive == b.ConnectionKeepAlive && a.ConnectionOther == b.ConnectionOther
            && a.HasConnectionOptions == b.HasConnectionOptions && a.HostCount == b.HostCount && a.UpgradeOrExpect == b.UpgradeOrExpect
            && a.CookieCount == b.CookieCount && a.ForwardedForCount == b.ForwardedForCount,
            "a reused instance (or the bytes after the empty line) changes the parsed head");
        for (var i = 0; i < a.FieldCount; i++)
        {
            var x = a.Fields[i];
            var y = b.Fields[i];
            Require(x.NameStart == y.NameStart && x.NameLength == y.NameLength && x.ValueStart == y.ValueStart && x.ValueLength == y.ValueLength
                && x.LineStart == y.LineStart && x.LineLength == y.LineLength && x.Kind == y.Kind, $"field {i} differs in a reused instance");
            Require(b.IsListedInConnection(head, y) == a.IsListedInConnection(head, x), $"field {i}: IsListedInConnection depends on the previous message");
        }
    }

    /// <summary>The chunked body target: every way of splitting the bytes between calls gives the same end.</summary>
    public static void Chunked(byte splitSeed, ReadOnlySpan<byte> body)
    {
        // One call on a fresh reader.
        var whole = new ChunkedBodyReader();
        var wholeUsed = whole.Advance(body);
        Require(wholeUsed >= -1 && wholeUsed <= body.Length, $"Advance used {wholeUsed} of {body.Length} bytes");
        Require(wholeUsed == -1 || whole.IsDone || wholeUsed == body.Length, "Advance stopped before the end of its input without being done");
        var expected = (wholeUsed, wholeUsed >= 0 && whole.IsDone);

        // A done reader stays done, and takes no more bytes.
        if (expected.Item2)
        {
            Require(whole.Advance(body) == 0 && whole.IsDone, "a done reader took more bytes");
            Require(whole.Advance(ReadOnlySpan<byte>.Empty) == 0 && whole.IsDone, "a done reader changed on an empty read");
        }

        // The same against an independent reading of RFC 9112 section 7.1 with the reader's limits.
        var reference = Reference(body);
        Require(reference == expected, $"the reader says {Describe(expected)}, the reference {Describe(reference)}");

        // Byte by byte, in the input's own splits, and after Reset on a reader that read something else.
        Require(Split(new ChunkedBodyReader(), body, _ => 1) == expected, $"byte by byte differs from one call ({Describe(expected)})");
        var state = (uint)splitSeed | 1u;
        var seeded = Split(new ChunkedBodyReader(), body, left =>
        {
            state = (state * 1103515245u) + 12345u;
            return 1 + (int)((state >> 16) % (uint)Math.Min(left, (splitSeed & 0x0F) switch { 0 => 1, < 8 => 7, < 12 => 64, _ => 4096 }));
        });
        Require(seeded == expected, $"splits from seed 0x{splitSeed:X2} differ from one call: {Describe(seeded)} vs {Describe(expected)}");

        var reused = new ChunkedBodyReader();
        reused.Advance("5\r\nhello\r\n3;x=1\r\nab"u8);
        reused.Reset();
        Require(Split(reused, body, left => Math.Min(left, 1 + (splitSeed >> 4))) == expected, "a Reset reader differs from a new one");
        if (expected.Item2)
        {
            // The rest of the input belongs to the next message: a Reset reader reads it as a new body.
            reused.Reset();
            var next = reused.Advance(body[wholeUsed..]);
            Require(next >= -1 && next <= body.Length - wholeUsed, "the next body's Advance out of range");
        }
    }

    /// <summary>Feeds <paramref name="body"/> in pieces as the connection does: stops at -1 or when done.</summary>
    private static (int Used, bool Done) Split(ChunkedBodyReader reader, ReadOnlySpan<byte> body, Func<int, int> nextLength)
    {
        var total = 0;
        while (total < body.Length)
        {
            var length = nextLength(body.Length - total);
            var piece = body.Slice(total, Math.Clamp(length, 1, body.Length - total));
            var used = reader.Advance(piece);
            Require(used >= -1 && used <= piece.Length, $"Advance used {used} of a {piece.Length}-byte piece");
            if (used < 0)
            {
                return (-1, false);
            }

            total += used;
            if (reader.IsDone)
            {
                return (total, true);
            }

            Require(used == piece.Length, "Advance stopped inside a piece without being done");
        }

        return (total, false);
    }

    /// <summary>A straightforward reading of the chunked coding with <see cref="ChunkedBodyReader"/>'s limits: where
    /// the body ends, or -1 for broken framing; (length, false) when the input ends first.</summary>
    private static (int Used, bool Done) Reference(ReadOnlySpan<byte> body)
    {
        var notDone = (body.Length, false);
        var i = 0;
        while (true)
        {
            // chunk-size: 1 to 16 hex digits, below 2^63.
            var digits = 0;
            var size = 0UL;
            while (i < body.Length && Uri.IsHexDigit((char)body[i]))
            {
                digits++;
                if (digits > ChunkedBodyReader.MaxSizeDigits)
                {
                    return (-1, false);
                }

                size = (size << 4) + (ulong)Convert.ToInt32(((char)body[i]).ToString(), 16);
                if (size > long.MaxValue)
                {
                    return (-1, false);
                }

                i++;
            }

            if (i == body.Length)
            {
                return notDone;
            }

            if (digits == 0)
            {
                return (-1, false);
            }

            // Extensions: after ';', SP or HTAB, up to MaxLineBytes bytes of no control but HTAB, to the CR.
            if (body[i] is (byte)';' or (byte)' ' or (byte)'\t')
            {
                i++;
                var extension = 0;
                while (true)
                {
                    if (i == body.Length)
                    {
                        return notDone;
                    }

                    var b = body[i];
                    if (b == '\r')
                    {
                        break;
                    }

                    extension++;
                    if (b == '\n' || extension > ChunkedBodyReader.MaxLineBytes || (b < 0x20 && b != '\t') || b == 0x7F)
                    {
                        return (-1, false);
                    }

                    i++;
                }
            }

            if (!Expect(body, ref i, '\r', out var result) || !Expect(body, ref i, '\n', out result))
            {
                return result;
            }

            if (size == 0)
            {
                break;
            }

            if ((ulong)(body.Length - i) < size)
            {
                return notDone;
            }

            i += (int)size;
            if (!Expect(body, ref i, '\r', out result) || !Expect(body, ref i, '\n', out result))
            {
                return result;
            }
        }

        // Trailer section: lines that do not start with whitespace, at most MaxTrailerBytes in all, then CRLF.
        var trailerBytes = 0;
        while (true)
        {
            if (i == body.Length)
            {
                return notDone;
            }

            if (body[i] == '\r')
            {
                i++;
                return Expect(body, ref i, '\n', out var last) ? (i, true) : last;
            }

            if (body[i] is (byte)'\n' or (byte)' ' or (byte)'\t')
            {
                return (-1, false);
            }

            while (true)
            {
                if (i == body.Length)
                {
                    return notDone;
                }

                if (body[i] == '\r')
                {
                    break;
                }

                trailerBytes++;
                if (body[i] == '\n' || trailerBytes > ChunkedBodyReader.MaxTrailerBytes)
                {
                    return (-1, false);
                }

                i++;
            }

            i++;
            if (!Expect(body, ref i, '\n', out var trailerEnd))
            {
                return trailerEnd;
            }
        }
    }

    private static bool Expect(ReadOnlySpan<byte> body, ref int i, char c, out (int, bool) result)
    {
        if (i == body.Length)
        {
            result = (body.Length, false);
            return false;
        }

        if (body[i] != c)
        {
            result = (-1, false);
            return false;
        }

        i++;
        result = default;
        return true;
    }

    private static string Describe((int Used, bool Done) outcome) =>
        outcome.Used < 0 ? "invalid" : outcome.Done ? $"done after {outcome.Used} bytes" : $"{outcome.Used} bytes, not done";

    private static List<string> ListElements(string value) =>
        value.Split(',').Select(e => e.Trim(' ', '\t')).Where(e => e.Length > 0).ToList();

    private static bool IsTchar(byte b) => char.IsAsciiLetterOrDigit((char)b) || "!#$%&'*+-.^_`|~".Contains((char)b, StringComparison.Ordinal);

    private static FieldKind KindOf(string lowerName) => lowerName switch
    {
        "host" => FieldKind.Host,
        "content-length" => FieldKind.ContentLength,
        "transfer-encoding" => FieldKind.TransferEncoding,
        "connection" => FieldKind.Connection,
        "keep-alive" => FieldKind.KeepAlive,
        "proxy-connection" => FieldKind.ProxyConnection,
        "te" => FieldKind.TE,
        "upgrade" => FieldKind.Upgrade,
        "expect" => FieldKind.Expect,
        "cookie" => FieldKind.Cookie,
        "set-cookie" => FieldKind.SetCookie,
        "x-forwarded-for" => FieldKind.ForwardedFor,
        "x-forwarded-proto" => FieldKind.ForwardedProto,
        "x-forwarded-port" => FieldKind.ForwardedPort,
        _ => FieldKind.Other,
    };

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvariantException(message);
        }
    }
}

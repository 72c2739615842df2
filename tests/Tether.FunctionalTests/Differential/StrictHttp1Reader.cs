using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Tether.FunctionalTests.Differential;

/// <summary>A message that breaks RFC 9112 as the strict reader reads it (or ends before it is complete).</summary>
public sealed class StrictHttpException(string message) : Exception(message)
{
    /// <summary>When the body was cut or malformed: the message's head, with an empty body.</summary>
    public StrictMessage? Partial { get; init; }
}

/// <summary>One header or trailer field line as received: the name as sent, the value trimmed of OWS, the whole line
/// without its CRLF.</summary>
public readonly record struct FieldLine(string Name, string Value, string Line);

/// <summary>One HTTP/1.1 message read by <see cref="StrictHttp1Reader"/>.</summary>
/// <param name="Head">The start line through the empty line, CRLFs included, as received.</param>
/// <param name="StartLine">The request or status line.</param>
/// <param name="Fields">The field lines in order.</param>
/// <param name="RawBody">The body bytes as received, framing included (chunk sizes, extensions, trailers).</param>
/// <param name="Body">The body decoded (chunked framing removed).</param>
/// <param name="Trailers">The trailer fields of a chunked body.</param>
public sealed record StrictMessage(byte[] Head, string StartLine, IReadOnlyList<FieldLine> Fields, byte[] RawBody, byte[] Body,
    IReadOnlyList<FieldLine> Trailers)
{
    /// <summary>The status code of a response.</summary>
    public int Status => int.Parse(StartLine.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>The method of a request.</summary>
    public string Method => StartLine[..StartLine.IndexOf(' ', StringComparison.Ordinal)];

    /// <summary>The target of a request.</summary>
    public string Target => StartLine.Split(' ')[1];

    /// <summary>Every value of <paramref name="name"/> (case-insensitive), in order.</summary>
    public IReadOnlyList<string> Values(string name) =>
        [.. Fields.Where(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase)).Select(f => f.Value)];
}

/// <summary>
/// A strict HTTP/1.1 reader over a socket (RFC 9112), for the differential tests' capture node (requests) and clients
/// (answers): lines end with CRLF and hold no other CR or LF; request line <c>token SP target SP HTTP/1.1</c>; status
/// line <c>HTTP/1.x SP 3DIGIT SP reason</c>; field lines <c>token ":" OWS value OWS</c> without obs-fold or control
/// characters; <c>Content-Length</c> digits only and repeated only with the same value; <c>Transfer-Encoding</c> only
/// <c>chunked</c> and never with <c>Content-Length</c>; chunk sizes in hex, extensions <c>;name[=token|quoted]</c>, each
/// chunk followed by CRLF, trailers as field lines. Anything else throws <see cref="StrictHttpException"/>.
/// </summary>
public sealed class StrictHttp1Reader(Socket socket, TimeSpan timeout)
{
    private const int MaxHead = 64 * 1024;

    private byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;
    private bool _eof;

    /// <summary>Bytes received and not yet read as part of a message.</summary>
    public int Pending => _end - _start;

    /// <summary>The bytes received and not yet read (for messages about a failure).</summary>
    public byte[] PendingBytes => _buffer[_start.._end];

    /// <summary>Reads the next request; null when the peer closed (or reset) before its first byte.</summary>
    public Task<StrictMessage?> ReadRequestAsync() => ReadAsync(request: true, headRequest: false);

    /// <summary>Reads the next answer, 1xx included; null when the peer closed before its first byte.</summary>
    public Task<StrictMessage?> ReadResponseAsync(bool headRequest) => ReadAsync(request: false, headRequest);

    /// <summary>True when the peer closes (or resets) the connection within <paramref name="wait"/> with no byte
    /// left unread.</summary>
    public async Task<bool> ClosedAsync(TimeSpan wait)
    {
        using var cancel = new CancellationTokenSource(wait);
        try
        {
            while (await FillAsync(cancel.Token))
            {
            }

            return Pending == 0;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<StrictMessage?> ReadAsync(bool request, bool headRequest)
    {
        if (Pending == 0 && !await FillAsync())
        {
            return null;
        }

        var headLength = await HeadLengthAsync();
        var head = _buffer[_start..(_start + headLength)];
        _start += headLength;
        var lines = Encoding.Latin1.GetString(head, 0, headLength - 4).Split("\r\n");
        var startLine = lines[0];
        foreach (var line in lines)
        {
            if (line.Contains('\r', StringComparison.Ordinal) || line.Contains('\n', StringComparison.Ordinal))
            {
                throw new StrictHttpException($"bare CR or LF in '{Escape(line)}'");
            }
        }

        var status = request ? CheckRequestLine(startLine) : CheckStatusLine(startLine);
        var fields = lines.Skip(1).Select(ParseField).ToList();
        var lengths = fields.Where(f => Is(f, "Content-Length")).Select(f => f.Value).ToList();
        var codings = fields.Where(f => Is(f, "Transfer-Encoding")).Select(f => f.Value).ToList();
        if (lengths.Any(l => l.Length == 0 || l.Length > 18 || !l.All(char.IsAsciiDigit)) || lengths.Distinct().Count() > 1)
        {
            throw new StrictHttpException($"bad Content-Length: {string.Join(" | ", lengths)}");
        }

        if (codings.Count > 0 && (codings.Count > 1 || !string.Equals(codings[0], "chunked", StringComparison.OrdinalIgnoreCase) || lengths.Count > 0))
        {
            throw new StrictHttpException($"Transfer-Encoding '{string.Join(" | ", codings)}' with {lengths.Count} Content-Length");
        }

        if (request && fields.Count(f => Is(f, "Host")) != 1)
        {
            throw new StrictHttpException("not exactly one Host");
        }

        var noBody = headRequest || status is >= 100 and < 200 or 204 or 304;
        if (noBody)
        {
            return new StrictMessage(head, startLine, fields, [], [], []);
        }

        try
        {
            if (codings.Count > 0)
            {
                return await ReadChunkedAsync(head, startLine, fields);
            }

            if (lengths.Count > 0)
            {
                var body = await ReadExactlyAsync(long.Parse(lengths[0], CultureInfo.InvariantCulture));
                return new StrictMessage(head, startLine, fields, body, body, []);
            }
        }
        catch (StrictHttpException e)
        {
            throw new StrictHttpException(e.Message) { Partial = new StrictMessage(head, startLine, fields, [], [], []) };
        }

        if (request)
        {
            return new StrictMessage(head, startLine, fields, [], [], []);
        }

        // An answer without framing: the body runs to the close.
        while (await FillAsync())
        {
        }

        var rest = _buffer[_start.._end];
        _start = _end;
        return new StrictMessage(head, startLine, fields, rest, rest, []);
    }

    private static bool Is(FieldLine field, string name) => string.Equals(field.Name, name, StringComparison.OrdinalIgnoreCase);

    private static int CheckRequestLine(string line)
    {
        var parts = line.Split(' ');
        if (parts.Length != 3 || !IsToken(parts[0]) || parts[1].Length == 0 || parts[1].Any(c => c <= ' ' || c >= 0x7F) || parts[2] != "HTTP/1.1")
        {
            throw new StrictHttpException($"bad request line '{Escape(line)}'");
        }

        return 0;
    }

    private static int CheckStatusLine(string line)
    {
        if (line.Length < 13 || !(line.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) || line.StartsWith("HTTP/1.0 ", StringComparison.Ordinal))
            || line.AsSpan(9, 3).ContainsAnyExceptInRange('0', '9') || line[12] != ' ' || line.Skip(13).Any(c => c < ' ' && c != '\t' || c == 0x7F))
        {
            throw new StrictHttpException($"bad status line '{Escape(line)}'");
        }

        return int.Parse(line.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture);
    }

    private static FieldLine ParseField(string line)
    {
        var colon = line.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !IsToken(line[..colon]))
        {
            throw new StrictHttpException($"bad field line '{Escape(line)}'");
        }

        var value = line[(colon + 1)..].Trim(' ', '\t');
        if (value.Any(c => c < ' ' && c != '\t' || c == 0x7F))
        {
            throw new StrictHttpException($"control character in field '{Escape(line)}'");
        }

        return new FieldLine(line[..colon], value, line);
    }

    internal static bool IsToken(string text) =>
        text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal));

    private async Task<StrictMessage> ReadChunkedAsync(byte[] head, string startLine, List<FieldLine> fields)
    {
        using var raw = new MemoryStream();
        using var body = new MemoryStream();
        while (true)
        {
            var sizeLine = await ReadLineAsync(raw);
            var semicolon = sizeLine.IndexOf(';', StringComparison.Ordinal);
            var hex = semicolon < 0 ? sizeLine : sizeLine[..semicolon];
            if (hex.Length == 0 || hex.Length > 15 || !hex.All(char.IsAsciiHexDigit) || (semicolon >= 0 && !IsChunkExtensions(sizeLine[semicolon..])))
            {
                throw new StrictHttpException($"bad chunk size line '{Escape(sizeLine)}'");
            }

            var size = long.Parse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                var trailers = new List<FieldLine>();
                while (await ReadLineAsync(raw) is { Length: > 0 } trailer)
                {
                    trailers.Add(ParseField(trailer));
                }

                return new StrictMessage(head, startLine, fields, raw.ToArray(), body.ToArray(), trailers);
            }

            var data = await ReadExactlyAsync(size);
            raw.Write(data);
            body.Write(data);
            if (await ReadLineAsync(raw) is { Length: > 0 } after)
            {
                throw new StrictHttpException($"chunk of {size} bytes followed by '{Escape(after)}' instead of CRLF");
            }
        }
    }

    /// <summary>RFC 9112 section 7.1.1 without BWS: <c>*( ";" token [ "=" ( token / quoted-string ) ] )</c>.</summary>
    private static bool IsChunkExtensions(string text)
    {
        var i = 0;
        while (i < text.Length)
        {
            if (text[i++] != ';')
            {
                return false;
            }

            var nameStart = i;
            while (i < text.Length && IsToken(text[i].ToString()))
            {
                i++;
            }

            if (i == nameStart)
            {
                return false;
            }

            if (i < text.Length && text[i] == '=')
            {
                i++;
                if (i < text.Length && text[i] == '"')
                {
                    var close = text.IndexOf('"', i + 1);
                    if (close < 0)
                    {
                        return false;
                    }

                    i = close + 1;
                }
                else
                {
                    var valueStart = i;
                    while (i < text.Length && IsToken(text[i].ToString()))
                    {
                        i++;
                    }

                    if (i == valueStart)
                    {
                        return false;
                    }
                }
            }
        }

        return true;
    }

    /// <summary>One line without its CRLF; the line and its CRLF are also written to <paramref name="raw"/>.</summary>
    private async Task<string> ReadLineAsync(MemoryStream raw)
    {
        var scanned = _start;
        while (true)
        {
            var lf = Array.IndexOf(_buffer, (byte)'\n', scanned, _end - scanned);
            if (lf >= 0)
            {
                if (lf == _start || _buffer[lf - 1] != '\r' || Array.IndexOf(_buffer, (byte)'\r', _start, lf - 1 - _start) >= 0)
                {
                    throw new StrictHttpException($"line without CRLF: '{Escape(Encoding.Latin1.GetString(_buffer, _start, lf + 1 - _start))}'");
                }

                var line = Encoding.Latin1.GetString(_buffer, _start, lf - 1 - _start);
                raw.Write(_buffer, _start, lf + 1 - _start);
                _start = lf + 1;
                return line;
            }

            var offset = scanned - _start;
            if (_end - _start > MaxHead || !await FillAsync())
            {
                throw new StrictHttpException($"connection ended (or line too long) in the chunked framing after {raw.Length} bytes");
            }

            scanned = _start + offset;
        }
    }

    private async Task<int> HeadLengthAsync()
    {
        while (true)
        {
            var at = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
            if (at >= 0)
            {
                return at + 4;
            }

            if (_end - _start > MaxHead)
            {
                throw new StrictHttpException("head longer than 64 KiB");
            }

            if (!await FillAsync())
            {
                throw new StrictHttpException($"connection ended inside a head: '{Escape(Encoding.Latin1.GetString(_buffer, _start, _end - _start))}'");
            }
        }
    }

    private async Task<byte[]> ReadExactlyAsync(long length)
    {
        while (_end - _start < length)
        {
            if (!await FillAsync())
            {
                throw new StrictHttpException($"connection ended after {_end - _start} of {length} body bytes");
            }
        }

        var bytes = _buffer[_start..(_start + (int)length)];
        _start += (int)length;
        return bytes;
    }

    /// <summary>Receives more bytes; false at EOF or reset.</summary>
    private async Task<bool> FillAsync(CancellationToken cancellation = default)
    {
        if (_eof)
        {
            return false;
        }

        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        cancel.CancelAfter(timeout);
        int n;
        try
        {
            n = await socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancel.Token);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new TimeoutException($"no bytes within {timeout.TotalSeconds} s; pending: '{Escape(Encoding.Latin1.GetString(_buffer, _start, Math.Min(_end - _start, 300)))}'");
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            n = 0;
        }

        if (n == 0)
        {
            _eof = true;
            return false;
        }

        _end += n;
        return true;
    }

    /// <summary><paramref name="text"/> with CR, LF, TAB and other control or non-ASCII characters escaped.</summary>
    public static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            sb.Append(c switch
            {
                '\r' => "\\r",
                '\n' => "\\n",
                '\t' => "\\t",
                '\\' => "\\\\",
                < ' ' or >= (char)0x7F => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }

        return sb.ToString();
    }

    /// <summary><paramref name="bytes"/> as Latin-1 text, escaped (at most <paramref name="max"/> bytes).</summary>
    public static string Escape(ReadOnlySpan<byte> bytes, int max = 4096) =>
        Escape(Encoding.Latin1.GetString(bytes[..Math.Min(bytes.Length, max)])) + (bytes.Length > max ? $"...({bytes.Length} bytes)" : "");
}

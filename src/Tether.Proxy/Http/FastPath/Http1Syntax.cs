namespace Tether.Proxy.Http.FastPath;

/// <summary>What a header field is to the fast path: the fields it reads or drops, by name (case-insensitive).</summary>
internal enum FieldKind : byte
{
    /// <summary>Any other field: copied as it is.</summary>
    Other,
    Host,
    ContentLength,
    TransferEncoding,
    Connection,
    KeepAlive,
    ProxyConnection,
    TE,
    Upgrade,
    Expect,
    Cookie,
    SetCookie,
    ForwardedFor,
    ForwardedProto,
    ForwardedPort,
}

/// <summary>One header field of a parsed head: offsets into the head's bytes (name, and value without the optional
/// whitespace around it) and its <see cref="FieldKind"/>.</summary>
internal struct HeaderField
{
    public int NameStart;
    public int NameLength;
    public int ValueStart;
    public int ValueLength;
    public int LineStart;
    public int LineLength;
    public FieldKind Kind;
}

/// <summary>The character classes of RFC 9110 section 5.6 and RFC 9112, as lookup tables, and the field names the
/// fast path knows.</summary>
internal static class Http1Syntax
{
    /// <summary>tchar (RFC 9110 section 5.6.2): the characters of a token (method, field name).</summary>
    private static readonly bool[] Token = BuildToken();

    /// <summary>The bytes a field value may hold (RFC 9110 section 5.5): VCHAR, obs-text, SP and HTAB; no other control.</summary>
    private static readonly bool[] FieldValue = BuildFieldValue();

    public static bool IsToken(byte b) => Token[b];

    private static readonly System.Buffers.SearchValues<byte> TokenValues = System.Buffers.SearchValues.Create(Members(Token));

    private static readonly System.Buffers.SearchValues<byte> FieldValueValues = System.Buffers.SearchValues.Create(Members(FieldValue));

    /// <summary>A non-empty token (vectorized).</summary>
    public static bool IsTokenSpan(ReadOnlySpan<byte> span) => !span.IsEmpty && span.IndexOfAnyExcept(TokenValues) < 0;

    /// <summary>Only bytes a field value may hold (vectorized).</summary>
    public static bool IsFieldValue(ReadOnlySpan<byte> span) => span.IndexOfAnyExcept(FieldValueValues) < 0;

    /// <summary>reg-name characters (RFC 3986 section 3.2.2: unreserved, pct-encoded, sub-delims).</summary>
    private static readonly System.Buffers.SearchValues<byte> RegName =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()*+,;="u8);

    private static readonly System.Buffers.SearchValues<byte> IpLiteral =
        System.Buffers.SearchValues.Create("0123456789abcdefABCDEF:.vV-_~!$&'()*+,;=%"u8);

    /// <summary>A Host value: <c>uri-host [ ":" port ]</c> (RFC 9110 section 7.2, RFC 3986 section 3.2.2): a reg-name or
    /// IPv4 address, or an IP literal in brackets, then optionally a colon and digits. Empty is allowed.</summary>
    public static bool IsValidHost(ReadOnlySpan<byte> value)
    {
        ReadOnlySpan<byte> port;
        if (!value.IsEmpty && value[0] == '[')
        {
            var close = value.IndexOf((byte)']');
            if (close < 2 || value[1..close].IndexOfAnyExcept(IpLiteral) >= 0)
            {
                return false;
            }

            port = value[(close + 1)..];
            if (!port.IsEmpty && port[0] != ':')
            {
                return false;
            }
        }
        else
        {
            var colon = value.IndexOf((byte)':');
            var host = colon < 0 ? value : value[..colon];
            if (host.IndexOfAnyExcept(RegName) >= 0)
            {
                return false;
            }

            port = colon < 0 ? default : value[colon..];
        }

        return port.IsEmpty || port[1..].IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0;
    }

    private static byte[] Members(bool[] table)
    {
        var members = new List<byte>();
        for (var b = 0; b < table.Length; b++)
        {
            if (table[b])
            {
                members.Add((byte)b);
            }
        }

        return [.. members];
    }

    /// <summary>True when <paramref name="span"/> equals the ASCII <paramref name="lower"/> ignoring case
    /// (<paramref name="lower"/> is lower case).</summary>
    public static bool EqualsIgnoreCase(ReadOnlySpan<byte> span, ReadOnlySpan<byte> lower)
    {
        if (span.Length != lower.Length)
        {
            return false;
        }

        for (var i = 0; i < span.Length; i++)
        {
            var b = span[i];
            if ((uint)(b - 'A') <= 'Z' - 'A')
            {
                b |= 0x20;
            }

            if (b != lower[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The kind of a field by its name; <see cref="FieldKind.Other"/> for every name the fast path does not read.</summary>
    public static FieldKind KindOf(ReadOnlySpan<byte> name) => name.Length switch
    {
        2 when EqualsIgnoreCase(name, "te"u8) => FieldKind.TE,
        4 when EqualsIgnoreCase(name, "host"u8) => FieldKind.Host,
        6 when EqualsIgnoreCase(name, "cookie"u8) => FieldKind.Cookie,
        6 when EqualsIgnoreCase(name, "expect"u8) => FieldKind.Expect,
        7 when EqualsIgnoreCase(name, "upgrade"u8) => FieldKind.Upgrade,
        10 when EqualsIgnoreCase(name, "connection"u8) => FieldKind.Connection,
        10 when EqualsIgnoreCase(name, "keep-alive"u8) => FieldKind.KeepAlive,
        10 when EqualsIgnoreCase(name, "set-cookie"u8) => FieldKind.SetCookie,
        14 when EqualsIgnoreCase(name, "content-length"u8) => FieldKind.ContentLength,
        15 when EqualsIgnoreCase(name, "x-forwarded-for"u8) => FieldKind.ForwardedFor,
        16 when EqualsIgnoreCase(name, "proxy-connection"u8) => FieldKind.ProxyConnection,
        16 when EqualsIgnoreCase(name, "x-forwarded-port"u8) => FieldKind.ForwardedPort,
        17 when EqualsIgnoreCase(name, "transfer-encoding"u8) => FieldKind.TransferEncoding,
        17 when EqualsIgnoreCase(name, "x-forwarded-proto"u8) => FieldKind.ForwardedProto,
        _ => FieldKind.Other,
    };

    /// <summary>The hop-by-hop fields neither path forwards (RFC 9110 section 7.6.1), besides those a Connection
    /// field names: <c>Connection</c>, <c>Keep-Alive</c>, <c>Proxy-Connection</c>, <c>TE</c>, <c>Upgrade</c>.</summary>
    public static bool IsHopByHop(FieldKind kind) =>
        kind is FieldKind.Connection or FieldKind.KeepAlive or FieldKind.ProxyConnection or FieldKind.TE or FieldKind.Upgrade;

    /// <summary>Parses a Content-Length value: 1 to 18 decimal digits, nothing else (RFC 9110 section 8.6; a list such as
    /// <c>5, 5</c> is refused).</summary>
    public static bool TryParseContentLength(ReadOnlySpan<byte> value, out long length)
    {
        length = 0;
        if (value.IsEmpty || value.Length > 18)
        {
            return false;
        }

        foreach (var b in value)
        {
            var digit = (uint)(b - '0');
            if (digit > 9)
            {
                return false;
            }

            length = (length * 10) + digit;
        }

        return true;
    }

    /// <summary>Trims optional whitespace (SP, HTAB) from both ends.</summary>
    public static ReadOnlySpan<byte> TrimOws(ReadOnlySpan<byte> span)
    {
        var start = 0;
        var end = span.Length;
        while (start < end && (span[start] == ' ' || span[start] == '\t'))
        {
            start++;
        }

        while (end > start && (span[end - 1] == ' ' || span[end - 1] == '\t'))
        {
            end--;
        }

        return span[start..end];
    }

    /// <summary>Walks the comma-separated elements of a list value (RFC 9110 section 5.6.1), each trimmed; empty
    /// elements are skipped.</summary>
    public ref struct ListEnumerator(ReadOnlySpan<byte> value)
    {
        private readonly ReadOnlySpan<byte> _value = value;
        private int _position;

        public ReadOnlySpan<byte> Current { get; private set; }

        /// <summary>Where <see cref="Current"/> starts in the value.</summary>
        public int CurrentStart { get; private set; }

        public bool MoveNext()
        {
            while (_position < _value.Length)
            {
                var rest = _value[_position..];
                var comma = rest.IndexOf((byte)',');
                var element = comma < 0 ? rest : rest[..comma];
                var start = _position;
                _position = comma < 0 ? _value.Length : _position + comma + 1;
                var leading = 0;
                while (leading < element.Length && (element[leading] == ' ' || element[leading] == '\t'))
                {
                    leading++;
                }

                element = TrimOws(element);
                if (!element.IsEmpty)
                {
                    Current = element;
                    CurrentStart = start + leading;
                    return true;
                }
            }

            return false;
        }
    }

    private static bool[] BuildToken()
    {
        var table = new bool[256];
        for (var c = '0'; c <= '9'; c++)
        {
            table[c] = true;
        }

        for (var c = 'a'; c <= 'z'; c++)
        {
            table[c] = true;
            table[c - 32] = true;
        }

        foreach (var c in "!#$%&'*+-.^_`|~")
        {
            table[c] = true;
        }

        return table;
    }

    private static bool[] BuildFieldValue()
    {
        var table = new bool[256];
        for (var b = 0x20; b < 0x7F; b++)
        {
            table[b] = true;
        }

        for (var b = 0x80; b < 0x100; b++)
        {
            table[b] = true;
        }

        table['\t'] = true;
        return table;
    }
}

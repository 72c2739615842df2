using System.Text;
using Tether.Proxy.Http.FastPath;

namespace Tether.Proxy.Tests.Http.FastPath;

/// <summary><see cref="RequestHead.Parse"/>: what the fast path serves, refuses (400) or hands to Kestrel (RFC 9112
/// sections 2-6, RFC 9110 section 7.6.1).</summary>
public sealed class RequestHeadTests
{
    [Fact]
    public void Parse_ValidHead_ReportsFieldOffsetsWithOwsTrimmed()
    {
        const string text = "GET /path?q=1 HTTP/1.1\r\nHost: example.test\r\nX-Spaced: \t value with spaces \t\r\nX-Empty:\r\n\r\n";
        var bytes = Bytes(text);
        var head = new RequestHead();

        var status = head.Parse(bytes);

        Assert.Equal(HeadStatus.Ok, status);
        Assert.Equal("GET /path?q=1 HTTP/1.1".Length, head.FirstLineLength);
        Assert.Equal(3, head.FieldCount);
        var fields = head.Fields.ToArray();
        Assert.Equal(("Host", "example.test", "Host: example.test"), Describe(text, fields[0]));
        Assert.Equal(("X-Spaced", "value with spaces", "X-Spaced: \t value with spaces \t"), Describe(text, fields[1]));
        Assert.Equal(("X-Empty", "", "X-Empty:"), Describe(text, fields[2]));
        Assert.Equal(text.IndexOf("Host:", StringComparison.Ordinal), fields[0].LineStart);
        Assert.Equal(fields[0].LineStart, fields[0].NameStart);
        Assert.Equal(FieldKind.Host, fields[0].Kind);
        Assert.Equal(FieldKind.Other, fields[1].Kind);
        Assert.Equal(1, head.HostCount);
        Assert.Equal(-1, head.ContentLength);
        Assert.False(head.Chunked);
        Assert.False(head.IsHead);
        Assert.False(head.ConnectionClose);
        Assert.False(head.HasConnectionOptions);
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("5", 5)]
    [InlineData("  42  ", 42)]
    [InlineData("999999999999999999", 999_999_999_999_999_999)]
    public void Parse_ContentLength_IsRead(string value, long expected)
    {
        var head = new RequestHead();

        var status = head.Parse(Bytes($"POST / HTTP/1.1\r\nHost: h\r\nContent-Length:{value}\r\n\r\n"));

        Assert.Equal(HeadStatus.Ok, status);
        Assert.Equal(expected, head.ContentLength);
        Assert.False(head.Chunked);
    }

    [Fact]
    public void Parse_ContentLengthRepeatedWithSameValue_IsAccepted()
    {
        var head = new RequestHead();

        var status = head.Parse(Bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"));

        Assert.Equal(HeadStatus.Ok, status);
        Assert.Equal(5, head.ContentLength);
    }

    [Theory]
    [InlineData("chunked")]
    [InlineData("Chunked")]
    [InlineData("CHUNKED")]
    [InlineData(" chunked ")]
    public void Parse_TransferEncodingChunked_IsChunked(string value)
    {
        var head = new RequestHead();

        var status = head.Parse(Bytes($"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: {value}\r\n\r\n"));

        Assert.Equal(HeadStatus.Ok, status);
        Assert.True(head.Chunked);
        Assert.True(head.FinalChunked);
        Assert.False(head.OtherTransferCoding);
        Assert.Equal(-1, head.ContentLength);
    }

    [Theory]
    [InlineData("HEAD", true)]
    [InlineData("GET", false)]
    [InlineData("head", false)] // methods are case-sensitive (RFC 9110 section 9.1)
    public void Parse_Method_SetsIsHeadForHeadOnly(string method, bool expected)
    {
        var head = new RequestHead();

        var status = head.Parse(Bytes($"{method} / HTTP/1.1\r\nHost: h\r\n\r\n"));

        Assert.Equal(HeadStatus.Ok, status);
        Assert.Equal(expected, head.IsHead);
    }

    [Theory]
    [InlineData("close", true, false)]
    [InlineData("Close", true, false)]
    [InlineData("keep-alive", false, true)]
    [InlineData("Keep-Alive", false, true)]
    [InlineData("keep-alive, close", true, true)]
    [InlineData(" , close ,", true, false)]
    public void Parse_ConnectionCloseOrKeepAlive_IsReported(string value, bool close, bool keepAlive)
    {
        var head = new RequestHead();

        var status = head.Parse(Bytes($"GET / HTTP/1.1\r\nHost: h\r\nConnection: {value}\r\n\r\n"));

        Assert.Equal(HeadStatus.Ok, status);
        Assert.Equal(close, head.ConnectionClose);
        Assert.Equal(keepAlive, head.ConnectionKeepAlive);
        Assert.False(head.HasConnectionOptions);
    }

    [Fact]
    public void Parse_ConnectionOptions_ListedFieldsAreFoundIgnoringCase()
    {
        const string text = "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Hop ,x-OTHER\r\nConnection: X-Third\r\n"
            + "x-hop: 1\r\nX-Other: 2\r\nX-THIRD: 3\r\nX-End: 4\r\nX-Hopper: 5\r\n\r\n";
        var bytes = Bytes(text);
        var head = new RequestHead();

        var status = head.Parse(bytes);

        Assert.Equal(HeadStatus.Ok, status);
        Assert.True(head.HasConnectionOptions);
        Assert.True(head.ConnectionKeepAlive);
        Assert.False(head.ConnectionOther);
        var listed = new List<string>();
        foreach (ref readonly var field in head.Fields)
        {
            if (head.IsListedInConnection(bytes, field))
            {
                listed.Add(text.Substring(field.NameStart, field.NameLength));
            }
        }

        Assert.Equal(["x-hop", "X-Other", "X-THIRD"], listed);
    }

    [Fact]
    public void Parse_EightConnectionOptions_IsServed()
    {
        var head = new RequestHead();

        var status = head.Parse(Bytes("GET / HTTP/1.1\r\nHost: h\r\nConnection: o1, o2, o3, o4, o5, o6, o7, o8\r\n\r\n"));

        Assert.Equal(HeadStatus.Ok, status);
        Assert.False(head.ConnectionOther);
    }

    [Fact]
    public void Parse_ParsedTwice_SecondParseStartsFresh()
    {
        var head = new RequestHead();
        head.Parse(Bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: close, X-A\r\nCookie: a=1\r\n\r\n"));

        var status = head.Parse(Bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));

        Assert.Equal(HeadStatus.Ok, status);
        Assert.Equal(-1, head.ContentLength);
        Assert.False(head.ConnectionClose);
        Assert.False(head.HasConnectionOptions);
        Assert.Equal(0, head.CookieCount);
        Assert.Equal(1, head.FieldCount);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: h\nX-A: 1\r\n\r\n")] // bare LF ends a field line
    [InlineData("GET / HTTP/1.1\nHost: h\r\n\r\n")] // bare LF ends the request line
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\n\n")] // bare LF ends the head
    [InlineData("GET / HTTP/1.1\r\nHost: h\rX-A: 1\r\n\r\n")] // bare CR inside a line
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n continued\r\n\r\n")] // obs-fold
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\tcontinued\r\n\r\n")] // obs-fold with HTAB
    [InlineData("GET / HTTP/1.1\r\nHost : h\r\n\r\n")] // whitespace before the colon
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nX-A\t: 1\r\n\r\n")] // HTAB before the colon
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\n: 1\r\n\r\n")] // empty name
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nX(A): 1\r\n\r\n")] // not a token
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u0001b\r\n\r\n")] // control character in a value
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u0000b\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u007Fb\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u001Bb\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")] // CL + TE
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n")] // two different CLs
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1234567890123456789\r\n\r\n")] // 19 digits
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x5\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5 5\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n")] // final coding not chunked (RFC 9112 6.3)
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\n\r\n")] // no Host in HTTP/1.1 (RFC 9112 3.2)
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")] // two Hosts
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n")]
    [InlineData("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n")] // two spaces in the request line's target
    [InlineData("GET  / HTTP/1.1\r\nHost: h\r\n\r\n")] // two spaces after the method
    [InlineData("GET /  HTTP/1.1\r\nHost: h\r\n\r\n")]
    [InlineData("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n")]
    [InlineData("GET / http/1.1\r\nHost: h\r\n\r\n")] // the version is case-sensitive (RFC 9112 2.3)
    [InlineData("GET / FOO/1.1\r\nHost: h\r\n\r\n")]
    [InlineData("GET /a\u007Fb HTTP/1.1\r\nHost: h\r\n\r\n")] // DEL in the target
    [InlineData("G(T / HTTP/1.1\r\nHost: h\r\n\r\n")] // the method is not a token
    [InlineData(" GET / HTTP/1.1\r\nHost: h\r\n\r\n")]
    [InlineData("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")] // empty request line
    [InlineData("GET /\r\nHost: h\r\n\r\n")] // HTTP/0.9 form
    public void Parse_MalformedHead_ReturnsInvalid(string text)
    {
        var head = new RequestHead();

        var status = head.Parse(Bytes(text));

        Assert.Equal(HeadStatus.Invalid, status);
    }

    /// <summary>RFC 9112 section 3.2: a server MUST answer 400 to a request with "a Host header field with an invalid
    /// field value" (Host = uri-host [ ":" port ], RFC 9110 section 7.2). Parse checks how many Host fields there are,
    /// not what they hold, so these are forwarded (Kestrel's HTTP stack answers 400 to each).</summary>
    [Theory]
    [InlineData("a b")]
    [InlineData("a/b")]
    [InlineData("a@b")]
    [InlineData("h:8x")]
    [InlineData("a:b:c")]
    [InlineData("[::1")]
    public void Parse_InvalidHostValue_ReturnsInvalid(string host)
    {
        var head = new RequestHead();

        var status = head.Parse(Bytes($"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n"));

        Assert.Equal(HeadStatus.Invalid, status);
    }

    [Theory]
    [InlineData("")] // an empty Host is valid when the target has no authority (RFC 9112 3.2)
    [InlineData("example.test")]
    [InlineData("example.test:8080")]
    [InlineData("127.0.0.1:80")]
    [InlineData("[::1]:80")]
    [InlineData("a_b-c.example")]
    public void Parse_ValidHostValue_IsServed(string host)
    {
        var head = new RequestHead();

        var status = head.Parse(Bytes($"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n"));

        Assert.Equal(HeadStatus.Ok, status);
    }

    [Theory]
    [InlineData("GET / HTTP/1.0\r\n\r\n")] // HTTP/1.0, with or without Host
    [InlineData("GET / HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n")]
    [InlineData("PRI * HTTP/2.0\r\n\r\n")] // HTTP/2's connection preface
    [InlineData("GET / HTTP/1.2\r\nHost: h\r\n\r\n")] // other versions, and malformed ones that start with HTTP/: Kestrel answers
    [InlineData("GET / HTTP/1.1 \r\nHost: h\r\n\r\n")]
    [InlineData("GET / HTTP/1.1x\r\nHost: h\r\n\r\n")]
    [InlineData("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")]
    [InlineData("GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n")] // absolute-form
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nConnection: o1, o2, o3, o4, o5, o6, o7, o8, o9\r\n\r\n")] // > 8 options
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nConnection: o1, o2, o3, o4, o5\r\nConnection: o6, o7, o8, o9\r\n\r\n")]
    public void Parse_RequestForKestrel_ReturnsHandOver(string text)
    {
        var head = new RequestHead();

        var status = head.Parse(Bytes(text));

        Assert.Equal(HeadStatus.HandOver, status);
    }

    [Theory]
    [InlineData("CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n")] // Tether is no forward proxy
    [InlineData("CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")] // RFC 9112 section 6.1
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n")]
    public void Parse_ConnectOrOtherTransferCoding_ReturnsNotImplemented(string text)
    {
        var head = new RequestHead();

        var status = head.Parse(Bytes(text));

        Assert.Equal(HeadStatus.NotImplemented, status);
    }

    [Fact]
    public void Parse_OptionsAsterisk_IsServed()
    {
        var head = new RequestHead();

        var status = head.Parse(Bytes("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"));

        Assert.Equal(HeadStatus.Ok, status);
    }

    [Theory]
    [InlineData("GET * HTTP/1.1\r\nHost: h\r\n\r\n")] // asterisk-form is for OPTIONS only (RFC 9112 section 3.2.4)
    [InlineData("POST * HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")]
    public void Parse_AsteriskFormOtherThanOptions_ReturnsInvalid(string text)
    {
        var head = new RequestHead();

        var status = head.Parse(Bytes(text));

        Assert.Equal(HeadStatus.Invalid, status);
    }

    [Fact]
    public void Parse_100Fields_IsServed()
    {
        var head = new RequestHead();

        var status = head.Parse(Bytes(WithFields(RequestHead.MaxFields)));

        Assert.Equal(HeadStatus.Ok, status);
        Assert.Equal(RequestHead.MaxFields, head.FieldCount);
    }

    [Fact]
    public void Parse_MoreFieldsThanItStartsWith_GrowsKeepingEveryFieldAndServesTheNextSmallHead()
    {
        var head = new RequestHead();
        var big = Bytes(WithFields(MessageHead.InitialFields * 3 + 1));

        var first = head.Parse(big);
        var names = new List<string>();
        foreach (var field in head.Fields)
        {
            names.Add(Encoding.Latin1.GetString(big, field.NameStart, field.NameLength));
        }

        var second = head.Parse(Bytes("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n"));

        Assert.Equal(HeadStatus.Ok, first);
        Assert.Equal(MessageHead.InitialFields * 3 + 1, names.Count);
        Assert.Equal("Host", names[0]);
        for (var i = 1; i < names.Count; i++)
        {
            Assert.Equal("X-F" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), names[i]);
        }

        Assert.Equal(HeadStatus.Ok, second);
        Assert.Equal(2, head.FieldCount);
    }

    [Fact]
    public void Parse_101Fields_ReturnsTooManyFields()
    {
        var head = new RequestHead();

        var status = head.Parse(Bytes(WithFields(RequestHead.MaxFields + 1)));

        Assert.Equal(HeadStatus.TooManyFields, status);
    }

    [Fact]
    public void Parse_CookiesAndForwardedFor_AreCounted()
    {
        var head = new RequestHead();

        var status = head.Parse(Bytes("GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\ncookie: b=2\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n"));

        Assert.Equal(HeadStatus.Ok, status);
        Assert.Equal(2, head.CookieCount);
        Assert.Equal(1, head.ForwardedForCount);
    }

    [Fact]
    public void Parse_ObsTextInValue_IsAccepted()
    {
        var head = new RequestHead();

        var status = head.Parse(Bytes("GET / HTTP/1.1\r\nHost: h\r\nX-A: caf\u00e9\r\n\r\n"));

        Assert.Equal(HeadStatus.Ok, status);
    }

    internal static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    /// <summary>A GET with Host and <paramref name="count"/> - 1 other fields.</summary>
    private static string WithFields(int count)
    {
        var text = new StringBuilder("GET / HTTP/1.1\r\nHost: h\r\n");
        for (var i = 1; i < count; i++)
        {
            text.Append("X-F").Append(i).Append(": v\r\n");
        }

        return text.Append("\r\n").ToString();
    }

    private static (string Name, string Value, string Line) Describe(string text, HeaderField field) =>
        (text.Substring(field.NameStart, field.NameLength), text.Substring(field.ValueStart, field.ValueLength),
            text.Substring(field.LineStart, field.LineLength));
}

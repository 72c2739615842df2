using System.Text;
using Tether.Proxy.Http.FastPath;
using static Tether.Proxy.Tests.Http.FastPath.RequestHeadTests;

namespace Tether.Proxy.Tests.Http.FastPath;

/// <summary><see cref="ResponseHead.Parse"/>: a node's status line and fields (RFC 9112 section 4); what it refuses
/// becomes a 502.</summary>
public sealed class ResponseHeadTests
{
    [Theory]
    [InlineData("HTTP/1.1 200 OK", 200, false)]
    [InlineData("HTTP/1.1 404 Not Found", 404, false)]
    [InlineData("HTTP/1.0 200 OK", 200, true)]
    [InlineData("HTTP/1.1 100 Continue", 100, false)]
    [InlineData("HTTP/1.1 599 Custom", 599, false)]
    [InlineData("HTTP/1.1 204 ", 204, false)] // empty reason phrase: SP is there, the reason is optional
    [InlineData("HTTP/1.1 200 D\u00e9j\u00e0 vu\tok", 200, false)] // obs-text and HTAB in the reason
    public void Parse_StatusLine_ReadsCodeAndVersion(string statusLine, int code, bool http10)
    {
        var head = new ResponseHead();

        var status = head.Parse(Bytes(statusLine + "\r\nContent-Length: 0\r\n\r\n"));

        Assert.Equal(HeadStatus.Ok, status);
        Assert.Equal(code, head.StatusCode);
        Assert.Equal(http10, head.IsHttp10);
        Assert.Equal(statusLine.Length, head.FirstLineLength);
        Assert.Equal(0, head.ContentLength);
    }

    /// <summary>
    /// RFC 9112 section 4: <c>status-line = HTTP-version SP status-code SP [ reason-phrase ]</c>, so the SP after the
    /// code is required even when the reason is empty. Parse accepts the line without it, which is a harmless leniency
    /// for a recipient (the reason carries no framing), and it is what many servers send. What matters is that Tether
    /// does not forward it as it is: see Http1FastPathTests.Response_StatusLineWithoutReason_IsForwardedWithSpace.
    /// </summary>
    [Fact]
    public void Parse_StatusLineWithoutSpaceAfterCode_IsAcceptedLeniently()
    {
        var head = new ResponseHead();

        var status = head.Parse(Bytes("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"));

        Assert.Equal(HeadStatus.Ok, status);
        Assert.Equal(200, head.StatusCode);
        Assert.Equal(12, head.FirstLineLength);
    }

    [Theory]
    [InlineData("HTTP/1.1 20 OK")] // two digits
    [InlineData("HTTP/1.1 2000 OK")] // four digits
    [InlineData("HTTP/1.1 2x0 OK")]
    [InlineData("HTTP/1.1 abc OK")]
    [InlineData("HTTP/1.1 099 Low")] // below 100
    [InlineData("HTTP/1.1 000 Zero")]
    [InlineData("HTTP/1.1 200OK")] // no SP between code and reason
    [InlineData("HTTP/1.1  200 OK")] // two spaces
    [InlineData("HTTP/1.1\t200 OK")]
    [InlineData("http/1.1 200 OK")] // the version is case-sensitive
    [InlineData("HTTP/1.2 200 OK")]
    [InlineData("HTTP/2 200 OK")]
    [InlineData("HTTP/1.1")]
    [InlineData("HTTP/1.1 ")]
    [InlineData("HTTP/1.1 20")]
    [InlineData("HELLO WORLD")]
    [InlineData("HTTP/1.1 200 O\u0001K")] // control character in the reason
    [InlineData("HTTP/1.1 200 O\u007FK")]
    [InlineData("HTTP/1.1 200 O\u0000K")]
    [InlineData(" HTTP/1.1 200 OK")]
    public void Parse_InvalidStatusLine_ReturnsInvalid(string statusLine)
    {
        var head = new ResponseHead();

        var status = head.Parse(Bytes(statusLine + "\r\nContent-Length: 0\r\n\r\n"));

        Assert.Equal(HeadStatus.Invalid, status);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n")] // bare LF
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 0\rX: 1\r\n\r\n")] // bare CR
    [InlineData("HTTP/1.1 200 OK\r\nX: 1\r\n folded\r\n\r\n")] // obs-fold
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n")] // space before the colon
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")] // CL + TE
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nX: a\u0001b\r\n\r\n")]
    public void Parse_InvalidFields_ReturnsInvalid(string text)
    {
        var head = new ResponseHead();

        var status = head.Parse(Bytes(text));

        Assert.Equal(HeadStatus.Invalid, status);
    }

    [Theory]
    [InlineData("chunked", true, true)]
    [InlineData("gzip, chunked", false, true)]
    [InlineData("gzip,chunked", false, true)]
    [InlineData("gzip", false, false)] // the body ends when the node closes (RFC 9112 6.3)
    [InlineData("chunked, gzip", false, false)]
    public void Parse_TransferEncoding_ReportsFinalChunked(string value, bool chunked, bool finalChunked)
    {
        var head = new ResponseHead();

        var status = head.Parse(Bytes($"HTTP/1.1 200 OK\r\nTransfer-Encoding: {value}\r\n\r\n"));

        Assert.Equal(HeadStatus.Ok, status);
        Assert.Equal(chunked, head.Chunked);
        Assert.Equal(finalChunked, head.FinalChunked);
        Assert.Equal(!chunked, head.OtherTransferCoding);
        Assert.Equal(-1, head.ContentLength);
    }

    [Fact]
    public void Parse_ConnectionCloseAndSetCookies_AreReported()
    {
        var head = new ResponseHead();

        var status = head.Parse(Bytes("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n"));

        Assert.Equal(HeadStatus.Ok, status);
        Assert.True(head.IsHttp10);
        Assert.True(head.ConnectionKeepAlive);
        Assert.False(head.ConnectionClose);
        Assert.Equal(2, head.CookieCount);
    }

    [Fact]
    public void Parse_200Fields_IsAcceptedAnd201IsTooManyFields()
    {
        var head = new ResponseHead();

        var atLimit = head.Parse(Bytes(WithFields(ResponseHead.MaxFields)));
        var overLimit = head.Parse(Bytes(WithFields(ResponseHead.MaxFields + 1)));

        Assert.Equal(HeadStatus.Ok, atLimit);
        Assert.Equal(HeadStatus.TooManyFields, overLimit);
    }

    private static string WithFields(int count)
    {
        var text = new StringBuilder("HTTP/1.1 200 OK\r\n");
        for (var i = 0; i < count; i++)
        {
            text.Append("X-F").Append(i).Append(": v\r\n");
        }

        return text.Append("\r\n").ToString();
    }
}

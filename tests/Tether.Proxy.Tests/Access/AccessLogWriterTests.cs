using System.Net;
using Tether.Proxy.Access;

namespace Tether.Proxy.Tests.Access;

/// <summary>The connection log line's format (HAProxy httplog fields, issue 11): field order, "-" for what does not
/// apply, and the request path escaped so that a line always splits into the same fields.</summary>
public sealed class AccessLogWriterTests
{
    private static readonly DateTime Accepted = new(2026, 1, 1, 0, 0, 0, 123, DateTimeKind.Utc);

    [Fact]
    public void Format_HttpRequest_GivesHttplogFieldsInOrder()
    {
        var entry = new AccessLogEntry(Accepted, IPAddress.Loopback, 51234, 7, 3, new IPEndPoint(IPAddress.Loopback, 8080), "GET", "/index.html",
            200, 0, 1234, new AccessLogTimers(0, 1, 2, 4), AccessLogDecision.Balanced, AccessLogTermination.Normal);

        Assert.Equal("127.0.0.1:51234 [2026-01-01T00:00:00.123Z] 7 3/127.0.0.1:8080 0/1/2/4 200 0 1234 miss -- \"GET /index.html\"",
            AccessLogWriter.Format(entry));
    }

    [Fact]
    public void Format_NoNodeIpv6Client_DashesAndBrackets()
    {
        var entry = new AccessLogEntry(Accepted, IPAddress.Parse("2001:db8::1"), 443, 7, 0, null, "POST", "/a",
            503, 5, 190, new AccessLogTimers(0, -1, -1, 1), AccessLogDecision.None, AccessLogTermination.NodeConnect);

        Assert.Equal("[2001:db8::1]:443 [2026-01-01T00:00:00.123Z] 7 - 0/-1/-1/1 503 5 190 none SC \"POST /a\"", AccessLogWriter.Format(entry));
    }

    [Fact]
    public void Format_PathWithQuotesSpacesAndNonAscii_IsPercentEscaped()
    {
        var entry = new AccessLogEntry(Accepted, IPAddress.Loopback, 1, 7, 0, null, "GET", "/a\"b c\\é",
            400, 0, 0, AccessLogTimers.Total(0), AccessLogDecision.None, AccessLogTermination.ProxyRefused);

        var line = AccessLogWriter.Format(entry);

        Assert.EndsWith(" PR \"GET /a%22b%20c%5C%C3%A9\"", line);
        Assert.Equal(12, line.Split(' ').Length);
    }

    [Fact]
    public void Format_TcpConnection_HasNoRequest()
    {
        var entry = new AccessLogEntry(Accepted, IPAddress.Loopback, 1, 8, 5, new IPEndPoint(IPAddress.Loopback, 9000), null, null,
            -1, 120, 4500, AccessLogTimers.Total(5023), AccessLogDecision.Hashed, AccessLogTermination.Normal);

        Assert.Equal("127.0.0.1:1 [2026-01-01T00:00:00.123Z] 8 5/127.0.0.1:9000 -1/-1/-1/5023 - 120 4500 hashed -- -", AccessLogWriter.Format(entry));
    }
}

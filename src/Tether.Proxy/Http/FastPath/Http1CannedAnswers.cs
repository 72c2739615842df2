using System.Text;

namespace Tether.Proxy.Http.FastPath;

/// <summary>
/// The answers the fast path writes itself: the fixed 400/414/431/501 heads that end a connection, and the head of
/// Tether's 502/503/504 answer with the load balancer's error page.
/// </summary>
internal static class Http1CannedAnswers
{
    /// <summary>400: a head that is not valid HTTP/1.1 (RFC 9112), or broken chunked framing of a request body.</summary>
    public static readonly byte[] BadRequest = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray();

    /// <summary>431: a head over <see cref="Http1Connection.MaxRequestHeadBytes"/>.</summary>
    public static readonly byte[] TooLarge = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray();

    /// <summary>414: a request line over <see cref="Http1Connection.MaxRequestLineBytes"/>.</summary>
    public static readonly byte[] UriTooLong = "HTTP/1.1 414 URI Too Long\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray();

    /// <summary>501: what a reverse proxy does not do (RFC 9110 section 15.6.2).</summary>
    public static readonly byte[] NotImplemented = "HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray();

    /// <summary>The answer to a head the parser refused.</summary>
    public static byte[] ForRefusedHead(HeadStatus status) => status switch
    {
        HeadStatus.TooManyFields => TooLarge,
        HeadStatus.LineTooLong => UriTooLong,
        HeadStatus.NotImplemented => NotImplemented,
        _ => BadRequest,
    };

    /// <summary>The head of Tether's own <paramref name="status"/> answer (502, 503, else 504) whose body is an
    /// HTML page of <paramref name="pageLength"/> bytes; <c>Connection: close</c> when <paramref name="closeAfter"/>.</summary>
    public static byte[] ErrorHead(int status, int pageLength, bool closeAfter) => Encoding.ASCII.GetBytes(string.Concat(
        status switch { 502 => "HTTP/1.1 502 Bad Gateway", 503 => "HTTP/1.1 503 Service Unavailable", _ => "HTTP/1.1 504 Gateway Timeout" },
        "\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: ",
        pageLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
        closeAfter ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n"));
}

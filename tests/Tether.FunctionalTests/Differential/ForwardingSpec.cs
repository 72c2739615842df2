using System.Text;

namespace Tether.FunctionalTests.Differential;

/// <summary>
/// What a node must receive for a client's request (issue 10): the documented rewrites, computed from the client's
/// bytes. The fast path is held to <see cref="FastPathHead"/> byte for byte; the Kestrel + YARP path to
/// <see cref="KestrelPathSpec.Fields"/> as a multiset of (lower-case name, value).
/// </summary>
public static class ForwardingSpec
{
    private static readonly HashSet<string> HopByHop = new(["connection", "keep-alive", "proxy-connection", "te", "upgrade"], StringComparer.OrdinalIgnoreCase);
    private static readonly HashSet<string> NeverRemoved = new(["host", "content-length", "transfer-encoding"], StringComparer.OrdinalIgnoreCase);
    private static readonly HashSet<string> Replaced = new(["x-forwarded-for", "x-forwarded-proto", "x-forwarded-port"], StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The head the fast path must send: the request line unchanged; the client's field lines in order, byte for byte,
    /// minus the hop-by-hop fields, the fields named by a <c>Connection</c> option (never <c>Host</c>,
    /// <c>Content-Length</c>, <c>Transfer-Encoding</c>), the client's <c>X-Forwarded-For/-Proto/-Port</c> lines and every
    /// <c>Content-Length</c> line after the first; then <c>X-Forwarded-For</c> (the client's values trimmed, empty ones
    /// skipped, joined with ", ", then the client address), <c>X-Forwarded-Proto: http</c>,
    /// <c>X-Forwarded-Port: port</c> and the empty line.
    /// </summary>
    public static byte[] FastPathHead(GeneratedRequest request, string clientAddress, int listenerPort)
    {
        var named = ConnectionOptions(request);
        var head = new StringBuilder(request.RequestLine).Append("\r\n");
        var forwardedFor = new List<string>();
        var contentLength = false;
        foreach (var field in request.Fields)
        {
            if (HopByHop.Contains(field.Name))
            {
                continue;
            }

            if (Replaced.Contains(field.Name))
            {
                if (string.Equals(field.Name, "X-Forwarded-For", StringComparison.OrdinalIgnoreCase) && field.Value.Length > 0)
                {
                    forwardedFor.Add(field.Value);
                }

                continue;
            }

            if (string.Equals(field.Name, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                if (contentLength)
                {
                    continue;
                }

                contentLength = true;
            }
            else if (!NeverRemoved.Contains(field.Name) && named.Contains(field.Name))
            {
                continue;
            }

            head.Append(field.Line).Append("\r\n");
        }

        forwardedFor.Add(clientAddress);
        head.Append("X-Forwarded-For: ").AppendJoin(", ", forwardedFor).Append("\r\n")
            .Append("X-Forwarded-Proto: http\r\n")
            .Append("X-Forwarded-Port: ").Append(listenerPort).Append("\r\n\r\n");
        return Encoding.Latin1.GetBytes(head.ToString());
    }

    /// <summary>Host, Content-Length and Transfer-Encoding: never removed, even when a Connection option names them.</summary>
    public static bool IsNeverRemoved(string name) => NeverRemoved.Contains(name);

    /// <summary>The field names the client's <c>Connection</c> options name (lower case).</summary>
    public static HashSet<string> ConnectionOptions(GeneratedRequest request) =>
        new(request.Fields.Where(f => string.Equals(f.Name, "Connection", StringComparison.OrdinalIgnoreCase))
            .SelectMany(f => f.Value.Split(',')).Select(o => o.Trim(' ', '\t')).Where(o => o.Length > 0), StringComparer.OrdinalIgnoreCase);
}

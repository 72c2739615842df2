namespace Tether.FunctionalTests.Differential;

/// <summary>
/// What a node must receive through Kestrel + YARP (<c>Proxy:Http1FastPath=false</c>), compared semantically: field
/// order and name case are not kept there, and repeated fields may arrive joined, so both sides become a map from the
/// lower-case name to its values joined in order.
/// </summary>
public static class KestrelPathSpec
{
    private static readonly HashSet<string> Dropped = new(["connection", "keep-alive", "proxy-connection", "te", "upgrade", "x-forwarded-proto", "x-forwarded-port"], StringComparer.OrdinalIgnoreCase);

    /// <summary>Kestrel refuses a request with more than one <c>Content-Length</c> line, even with the same value
    /// (400, connection closed; the fast path forwards the first).</summary>
    public static bool Rejects(GeneratedRequest request) =>
        request.Rejected || request.Fields.Count(f => string.Equals(f.Name, "Content-Length", StringComparison.OrdinalIgnoreCase)) > 1;

    /// <summary>Kestrel ends the connection after the answer only when a <c>Connection</c> option is <c>close</c> with
    /// nothing but spaces around it: an option with a tab beside it (legal OWS, <c>a,\tclose</c>) is not seen, and the
    /// connection stays open (the fast path closes it).</summary>
    public static bool Closes(GeneratedRequest request) =>
        request.Closes && request.Fields.Where(f => string.Equals(f.Name, "Connection", StringComparison.OrdinalIgnoreCase))
            .SelectMany(f => f.Value.Split(',')).Any(o => string.Equals(o.Trim(' '), "close", StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether Kestrel keeps the client's <c>Connection</c> value as sent. Kestrel's <c>ParseConnection</c>
    /// recognizes an option as <c>keep-alive</c>, <c>close</c> or <c>upgrade</c> (any case) when only spaces (not tabs)
    /// surround it, and when exactly one of the three kinds is found, replaces the whole value with it.</summary>
    public static bool KeepsConnectionValue(GeneratedRequest request)
    {
        var kinds = request.Fields.Where(f => string.Equals(f.Name, "Connection", StringComparison.OrdinalIgnoreCase))
            .SelectMany(f => f.Value.Split(',')).Select(o => o.Trim(' ').ToLowerInvariant())
            .Where(o => o is "keep-alive" or "close" or "upgrade").Distinct().Count();
        return kinds != 1;
    }

    /// <summary>
    /// The fields the node must receive for <paramref name="request"/> through Kestrel + YARP, normalized. As
    /// <see cref="ForwardingSpec.FastPathHead"/> except (seen by experiment):
    /// <list type="bullet">
    /// <item>fields named by a <c>Connection</c> option are dropped only when Kestrel hands Tether the client's value:
    /// Kestrel replaces the value with the single option it acts on when it finds exactly one kind of
    /// <c>keep-alive</c>, <c>close</c> or <c>upgrade</c> (see <see cref="KeepsConnectionValue"/>), and the named
    /// fields then pass;</item>
    /// <item><c>Transfer-Encoding</c> is HttpClient's own: <c>chunked</c> in lower case whatever the client's case;</item>
    /// <item>a <c>POST</c> or <c>PUT</c> without a body gets <c>Content-Length: 0</c> (HttpClient's);</item>
    /// <item>repeated <c>User-Agent</c> lines arrive as one, joined with a space (see <see cref="Normalize"/>).</item>
    /// </list>
    /// </summary>
    public static SortedDictionary<string, string> Fields(GeneratedRequest request, string clientAddress, int listenerPort)
    {
        var named = KeepsConnectionValue(request) ? ForwardingSpec.ConnectionOptions(request) : [];
        var fields = new List<FieldLine>();
        var forwardedFor = new List<string>();
        var contentLength = false;
        foreach (var field in request.Fields)
        {
            if (Dropped.Contains(field.Name))
            {
                continue;
            }

            if (string.Equals(field.Name, "X-Forwarded-For", StringComparison.OrdinalIgnoreCase))
            {
                if (field.Value.Length > 0)
                {
                    forwardedFor.Add(field.Value);
                }

                continue;
            }

            if (named.Contains(field.Name) && !ForwardingSpec.IsNeverRemoved(field.Name))
            {
                continue;
            }

            if (string.Equals(field.Name, "Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                fields.Add(field with { Value = "chunked" });
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

            fields.Add(field);
        }

        if (request.Method is "POST" or "PUT" && !contentLength && !request.Chunked)
        {
            fields.Add(new FieldLine("Content-Length", "0", ""));
        }

        forwardedFor.Add(clientAddress);
        fields.Add(new FieldLine("X-Forwarded-For", string.Join(", ", forwardedFor), ""));
        fields.Add(new FieldLine("X-Forwarded-Proto", "http", ""));
        fields.Add(new FieldLine("X-Forwarded-Port", listenerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), ""));
        return Normalize(fields);
    }

    /// <summary>Lower-case name to the values of its lines joined in order: <c>Cookie</c> with "; ", <c>User-Agent</c>
    /// with a space (as HttpClient joins them), others with ", ".</summary>
    public static SortedDictionary<string, string> Normalize(IEnumerable<FieldLine> fields)
    {
        var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var group in fields.GroupBy(f => f.Name.ToLowerInvariant()))
        {
            map[group.Key] = string.Join(group.Key switch { "cookie" => "; ", "user-agent" => " ", _ => ", " }, group.Select(f => f.Value)).Trim(' ', '\t');
        }

        return map;
    }

    public static string Show(SortedDictionary<string, string> fields) =>
        string.Join(" | ", fields.Select(f => $"{f.Key}: {StrictHttp1Reader.Escape(f.Value)}"));
}

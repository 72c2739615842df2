using System.Globalization;
using System.Text;

namespace Tether.FunctionalTests.Differential;

/// <summary>One generated client request: its field lines exactly as sent and its body with and without framing.</summary>
public sealed class GeneratedRequest
{
    public required string Method { get; init; }

    public required string Target { get; init; }

    /// <summary>The field lines in the order sent, each exactly as sent (<see cref="FieldLine.Line"/>).</summary>
    public required IReadOnlyList<FieldLine> Fields { get; init; }

    /// <summary>The body as sent, framing included (chunk sizes, extensions, trailers).</summary>
    public required byte[] RawBody { get; init; }

    /// <summary>The body decoded.</summary>
    public required byte[] Body { get; init; }

    public required bool Chunked { get; init; }

    /// <summary>The request carries two Content-Length fields with different values: Tether answers 400 and closes.</summary>
    public required bool Rejected { get; init; }

    /// <summary>The request carries <c>Connection: close</c>: Tether closes after its answer.</summary>
    public required bool Closes { get; init; }

    public string RequestLine => $"{Method} {Target} HTTP/1.1";

    public byte[] Head => Encoding.Latin1.GetBytes(RequestLine + "\r\n" + string.Concat(Fields.Select(f => f.Line + "\r\n")) + "\r\n");

    public byte[] Bytes => [.. Head, .. RawBody];
}

/// <summary>One generated client connection: requests pipelined, sent in <see cref="Writes"/> pieces.</summary>
public sealed record GeneratedCase(int Number, IReadOnlyList<GeneratedRequest> Requests, IReadOnlyList<byte[]> Writes)
{
    public byte[] Bytes => [.. Writes.SelectMany(w => w)];
}

/// <summary>
/// The seeded generator of the differential tests (issue 10): client connections whose requests carry every field
/// Tether rewrites (<c>X-Forwarded-For/-Proto/-Port</c>, <c>Forwarded</c>, the hop-by-hop fields and the fields
/// <c>Connection</c> names, <c>Content-Length</c>, <c>Transfer-Encoding: chunked</c>, <c>Host</c>, <c>Cookie</c>) at
/// every position, repeated, in any letter case, with legal OWS, with bodies in both framings (chunk extensions and
/// trailers included), several requests pipelined on one connection. Case <c>n</c> of seed <c>s</c> is the same on
/// every run and independent of the other cases.
/// </summary>
public sealed class RequestCorpus(int seed)
{
    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"];
    private static readonly string[] Hosts = ["h", "example.test", "example.test:8080", "[::1]:80", "a_b.example", "H.Example.TEST"];
    private static readonly string[] ForwardedForValues = ["10.0.0.1", "10.0.0.1, 10.0.0.2", "", "198.51.100.7", "2001:db8::1", "unknown", "10.1.2.3,10.4.5.6", "203.0.113.9 ,  192.0.2.1"];
    private static readonly string[] ForwardedValues = ["for=192.0.2.60;proto=https;by=203.0.113.43", "for=\"[2001:db8:cafe::17]:4711\"", "for=192.0.2.43, for=198.51.100.17"];
    private static readonly string[] CookieValues = ["a=1; b=2", "tether-9=abc.def", "session=xyz", "SESSIONID=42; theme=dark"];
    private static readonly string[] OptionFields = ["X-Opt-A", "X-Opt-B", "x-opt-c"];
    private static readonly string[] Fillers = ["Accept: */*", "User-Agent: differential/1.0", "Accept-Encoding: gzip, br", "X-Empty: ", "X-Filler: a b  c", "Cache-Control: no-cache", "X-Quote: \"q, r\""];
    private static readonly string[] Extensions = [";ext=1", ";name=\"quoted value\"", ";a;b=c", ";x"];
    private static readonly string[] Trailers = ["X-Trailer-A: v", "X-Checksum: 1234", "X-Trailer-B:\tspaced "];
    private static readonly string[] LeadingWhitespace = ["", " ", " ", " ", "  ", "\t", " \t"];
    private static readonly string[] TrailingWhitespace = ["", "", "", " ", "\t", " \t "];
    private static readonly string[] ListSeparators = [", ", ",", " , ", ",\t", " ,  "];

    public int Seed { get; } = seed;

    /// <summary>Case <paramref name="number"/>: one client connection.</summary>
    public GeneratedCase Case(int number)
    {
        var random = new Random(unchecked((Seed * 1_000_003) ^ (number * 16_777_619)));
        var requests = new List<GeneratedRequest>();
        var count = 1 + random.Next(4);
        for (var k = 0; k < count; k++)
        {
            var request = Request(random, number, k, last: k == count - 1);
            requests.Add(request);
            if (request.Rejected || request.Closes)
            {
                break;
            }
        }

        byte[] bytes = [.. requests.SelectMany(r => r.Bytes)];
        var cuts = Enumerable.Range(0, random.Next(4)).Select(_ => random.Next(1, bytes.Length)).Distinct().Order().ToList();
        var writes = new List<byte[]>();
        var from = 0;
        foreach (var cut in cuts.Append(bytes.Length))
        {
            writes.Add(bytes[from..cut]);
            from = cut;
        }

        return new GeneratedCase(number, requests, writes);
    }

    private static GeneratedRequest Request(Random random, int number, int index, bool last)
    {
        var method = Methods[random.Next(Methods.Length)];
        var target = $"/c{number}/r{index}" + (random.Next(3) == 0 ? $"?q={random.Next(1000)}&x=%20y" : "");
        var fields = new List<(string Name, string Value)> { ("Host", Pick(random, Hosts)) };
        AddRepeated(random, fields, "X-Forwarded-For", ForwardedForValues, [40, 35, 15, 10]);
        AddRepeated(random, fields, "X-Forwarded-Proto", ["https", "http", "wss"], [65, 30, 5]);
        AddRepeated(random, fields, "X-Forwarded-Port", ["443", "8443", "80"], [65, 30, 5]);
        AddRepeated(random, fields, "Forwarded", ForwardedValues, [70, 25, 5]);
        AddRepeated(random, fields, "Cookie", CookieValues, [50, 35, 15]);
        AddRepeated(random, fields, "Keep-Alive", ["timeout=5, max=100", "timeout=1"], [75, 20, 5]);
        AddRepeated(random, fields, "Proxy-Connection", ["keep-alive", "close"], [80, 20]);
        AddRepeated(random, fields, "TE", ["trailers", "trailers, deflate;q=0.5"], [80, 20]);
        foreach (var option in OptionFields)
        {
            if (random.Next(5) < 2)
            {
                fields.Add((option, $"value-of-{option.ToLowerInvariant()}"));
            }
        }

        for (var i = random.Next(4); i > 0; i--)
        {
            var filler = Pick(random, Fillers).Split(": ", 2);
            fields.Add((filler[0], filler[1]));
        }

        // Connection: options that name other fields (present or not), keep-alive, and close on a last request.
        var closes = last && random.Next(7) == 0;
        var connectionLines = random.Next(100) switch { < 55 => 0, < 90 => 1, _ => 2 };
        if (closes && connectionLines == 0)
        {
            connectionLines = 1;
        }

        string[] nameable = ["keep-alive", "X-Opt-A", "x-opt-b", "X-OPT-C", "Cookie", "Forwarded", "Host", "Content-Length", "Transfer-Encoding", "Keep-Alive", "TE", "X-Absent", "X-Forwarded-For"];
        var named = 0;
        for (var i = 0; i < connectionLines; i++)
        {
            var options = new List<string>();
            for (var n = random.Next(1, 4); n > 0 && named < 8; n--, named++)
            {
                options.Add(Pick(random, nameable));
            }

            if (closes && i == 0)
            {
                options.Insert(random.Next(options.Count + 1), random.Next(2) == 0 ? "close" : "Close");
            }

            var separator = Pick(random, ListSeparators);
            fields.Add(("Connection", string.Join(separator, options)));
        }

        // The body and its framing.
        var framing = (method, random.Next(100)) switch
        {
            ("POST" or "PUT", < 50) => "length",
            ("POST" or "PUT", < 90) => "chunked",
            ("DELETE" or "OPTIONS", < 20) => "length",
            ("DELETE" or "OPTIONS", < 30) => "chunked",
            ("GET" or "HEAD", < 15) => "zero",
            _ => "none",
        };
        var body = framing is "length" or "chunked" ? Body(random, number, index) : [];
        var rawBody = framing == "chunked" ? Chunk(random, body) : body;
        var rejected = false;
        if (framing is "length" or "zero")
        {
            var lengthLines = random.Next(100) switch { < 85 => 1, < 97 => 2, _ => 3 };
            rejected = lengthLines > 1 && random.Next(4) == 0;
            for (var i = 0; i < lengthLines; i++)
            {
                var value = rejected && i == lengthLines - 1 ? body.Length + 1 + random.Next(5) : body.Length;
                fields.Add(("Content-Length", value.ToString(CultureInfo.InvariantCulture)));
            }
        }
        else if (framing == "chunked")
        {
            fields.Add(("Transfer-Encoding", Pick(random, ["chunked", "chunked", "Chunked", "CHUNKED"])));
        }

        Shuffle(random, fields);
        return new GeneratedRequest
        {
            Method = method,
            Target = target,
            Fields = [.. fields.Select(f => Line(random, f.Name, f.Value))],
            RawBody = rejected ? [] : rawBody,
            Body = rejected ? [] : body,
            Chunked = framing == "chunked",
            Rejected = rejected,
            Closes = closes && !rejected,
        };
    }

    /// <summary>Adds 0, 1, 2, ... lines of <paramref name="name"/>, with the weights of each count.</summary>
    private static void AddRepeated(Random random, List<(string, string)> fields, string name, string[] values, int[] weights)
    {
        var roll = random.Next(weights.Sum());
        var count = 0;
        while (roll >= weights[count])
        {
            roll -= weights[count++];
        }

        for (var i = 0; i < count; i++)
        {
            fields.Add((name, Pick(random, values)));
        }
    }

    private static FieldLine Line(Random random, string name, string value)
    {
        var cased = random.Next(100) switch
        {
            < 50 => name,
            < 70 => name.ToLowerInvariant(),
            < 85 => name.ToUpperInvariant(),
            _ => new string([.. name.Select(c => random.Next(2) == 0 ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c))]),
        };
        return new FieldLine(cased, value, cased + ":" + Pick(random, LeadingWhitespace) + value + Pick(random, TrailingWhitespace));
    }

    private static byte[] Body(Random random, int number, int index)
    {
        if (random.Next(4) == 0)
        {
            // A body that is a request itself: a node that misses the framing sees a second request.
            return Encoding.ASCII.GetBytes($"GET /c{number}/r{index}/smuggled HTTP/1.1\r\nHost: h\r\n\r\n");
        }

        var body = new byte[random.Next(100) switch { < 10 => 0, < 70 => random.Next(1, 100), < 95 => random.Next(100, 2000), _ => random.Next(2000, 20000) }];
        random.NextBytes(body);
        return body;
    }

    private static byte[] Chunk(Random random, byte[] body)
    {
        var raw = new StringBuilder();
        var at = 0;
        while (at < body.Length)
        {
            var size = Math.Min(body.Length - at, random.Next(1, random.Next(2) == 0 ? 16 : 4000));
            raw.Append(Size(random, size)).Append(random.Next(4) == 0 ? Pick(random, Extensions) : "").Append("\r\n");
            raw.Append(Encoding.Latin1.GetString(body, at, size)).Append("\r\n");
            at += size;
        }

        raw.Append(random.Next(5) == 0 ? "000" : "0").Append(random.Next(4) == 0 ? Pick(random, Extensions) : "").Append("\r\n");
        for (var i = random.Next(100) switch { < 70 => 0, < 90 => 1, _ => 2 }; i > 0; i--)
        {
            raw.Append(Pick(random, Trailers)).Append("\r\n");
        }

        raw.Append("\r\n");
        return Encoding.Latin1.GetBytes(raw.ToString());
    }

    private static string Size(Random random, int size)
    {
        var hex = size.ToString(random.Next(2) == 0 ? "x" : "X", CultureInfo.InvariantCulture);
        return random.Next(6) == 0 ? "0" + hex : hex;
    }

    private static void Shuffle<T>(Random random, List<T> list)
    {
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }

    private static T Pick<T>(Random random, IReadOnlyList<T> values) => values[random.Next(values.Count)];
}

using Microsoft.Extensions.Primitives;

namespace Tether.Proxy.Http;

/// <summary>Finds one cookie in a request's Cookie header lines without allocating (RFC 6265 section 5.4 syntax:
/// <c>name=value</c> pairs separated by <c>"; "</c>).</summary>
internal static class CookieHeader
{
    /// <summary>Finds the value of cookie <paramref name="name"/>; the first occurrence wins, as in browsers.</summary>
    /// <returns>True when found; <paramref name="value"/> is then the value with surrounding quotes removed.</returns>
    public static bool TryFind(StringValues headers, string name, out ReadOnlySpan<char> value)
    {
        for (var h = 0; h < headers.Count; h++)
        {
            var line = headers[h].AsSpan();
            while (!line.IsEmpty)
            {
                var end = line.IndexOf(';');
                var pair = end < 0 ? line : line[..end];
                line = end < 0 ? default : line[(end + 1)..];
                pair = pair.Trim(' ');
                var eq = pair.IndexOf('=');
                if (eq <= 0)
                {
                    continue;
                }

                if (pair[..eq].TrimEnd(' ').SequenceEqual(name))
                {
                    var v = pair[(eq + 1)..].Trim(' ');
                    if (v.Length >= 2 && v[0] == '"' && v[^1] == '"')
                    {
                        v = v[1..^1];
                    }

                    value = v;
                    return true;
                }
            }
        }

        value = default;
        return false;
    }

    /// <summary>Finds the value of cookie <paramref name="name"/> in one Cookie header value (or several joined by
    /// <c>"; "</c>); the first occurrence wins.</summary>
    public static bool TryFind(ReadOnlySpan<char> line, string name, out ReadOnlySpan<char> value)
    {
        var pairs = new PairEnumerator(line);
        while (pairs.MoveNext())
        {
            if (pairs.Name.SequenceEqual(name))
            {
                value = pairs.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>Walks every <c>name=value</c> pair of the Cookie header lines without allocating.</summary>
    public ref struct PairEnumerator
    {
        private readonly StringValues _headers;
        private int _header;
        private ReadOnlySpan<char> _rest;

        public PairEnumerator(StringValues headers)
        {
            _headers = headers;
            _header = -1;
            _rest = default;
            Name = default;
            Value = default;
        }

        /// <summary>Walks the pairs of one Cookie header value (or several joined by <c>"; "</c>).</summary>
        public PairEnumerator(ReadOnlySpan<char> line)
        {
            _headers = default;
            _header = 0;
            _rest = line;
            Name = default;
            Value = default;
        }

        public ReadOnlySpan<char> Name { get; private set; }

        public ReadOnlySpan<char> Value { get; private set; }

        public bool MoveNext()
        {
            while (true)
            {
                while (_rest.IsEmpty)
                {
                    if (++_header >= _headers.Count)
                    {
                        return false;
                    }

                    _rest = _headers[_header].AsSpan();
                }

                var end = _rest.IndexOf(';');
                var pair = end < 0 ? _rest : _rest[..end];
                _rest = end < 0 ? default : _rest[(end + 1)..];
                pair = pair.Trim(' ');
                var eq = pair.IndexOf('=');
                if (eq <= 0)
                {
                    continue;
                }

                Name = pair[..eq].TrimEnd(' ');
                var v = pair[(eq + 1)..].Trim(' ');
                Value = v.Length >= 2 && v[0] == '"' && v[^1] == '"' ? v[1..^1] : v;
                return true;
            }
        }
    }
}

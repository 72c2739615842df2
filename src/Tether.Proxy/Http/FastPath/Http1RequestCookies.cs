using System.Text;

namespace Tether.Proxy.Http.FastPath;

/// <summary>
/// The request's Cookie fields as characters, for session persistence (the persistence cookie, APP_COOKIE): joined
/// with <c>"; "</c> into a buffer of the connection (ASCII/Latin-1, as RFC 6265 cookies are), grown to the largest
/// seen.
/// </summary>
internal sealed class Http1RequestCookies
{
    private char[] _cookies = new char[256];
    private int _length;

    /// <summary>The joined Cookie values of the last request read.</summary>
    public ReadOnlySpan<char> Value => _cookies.AsSpan(0, _length);

    /// <summary>The cookie pairs of the last request read.</summary>
    public CookieHeader.PairEnumerator Pairs => new(_cookies.AsSpan(0, _length));

    /// <summary>Reads the Cookie fields of <paramref name="request"/> (parsed from <paramref name="head"/>).</summary>
    public void Read(ReadOnlySpan<byte> head, RequestHead request)
    {
        _length = 0;
        if (request.CookieCount == 0)
        {
            return;
        }

        foreach (ref readonly var field in request.Fields)
        {
            if (field.Kind != FieldKind.Cookie)
            {
                continue;
            }

            var value = head.Slice(field.ValueStart, field.ValueLength);
            var needed = _length + value.Length + 2;
            if (needed > _cookies.Length)
            {
                Array.Resize(ref _cookies, Math.Max(needed, _cookies.Length * 2));
            }

            if (_length > 0)
            {
                _cookies[_length++] = ';';
                _cookies[_length++] = ' ';
            }

            _length += Encoding.Latin1.GetChars(value, _cookies.AsSpan(_length));
        }
    }
}

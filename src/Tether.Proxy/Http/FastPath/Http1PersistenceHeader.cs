using System.Text;

namespace Tether.Proxy.Http.FastPath;

/// <summary>
/// HEADER persistence on the fast path: the value of the request's first field named by the load balancer's
/// <c>headerName</c> (ASCII case-insensitive, RFC 9110 section 5.1), copied as characters into a buffer of the
/// connection (grown to the largest seen) so that a retry can read it after the head is gone.
/// </summary>
internal sealed class Http1PersistenceHeader
{
    private char[] _value = new char[64];
    private int _length;

    /// <summary>The value of the last request read; empty when it had no such field (or the type is not HEADER).</summary>
    public ReadOnlySpan<char> Value => _value.AsSpan(0, _length);

    /// <summary>Reads the field <paramref name="name"/> of <paramref name="request"/> (parsed from
    /// <paramref name="head"/>); <paramref name="name"/> null: nothing to read.</summary>
    public void Read(ReadOnlySpan<byte> head, RequestHead request, string? name)
    {
        _length = 0;
        if (name is null)
        {
            return;
        }

        foreach (ref readonly var field in request.Fields)
        {
            if (field.NameLength != name.Length || !Ascii.EqualsIgnoreCase(head.Slice(field.NameStart, field.NameLength), name))
            {
                continue;
            }

            var value = head.Slice(field.ValueStart, field.ValueLength);
            if (value.Length > _value.Length)
            {
                _value = new char[Math.Max(value.Length, _value.Length * 2)];
            }

            _length = Encoding.Latin1.GetChars(value, _value);
            return;
        }
    }
}

using System.Buffers;

namespace Tether.Proxy.Http.FastPath;

/// <summary>
/// Where a message head ends, in the client's pipe (a request) and in a node connection's buffer (an answer), and
/// the size checks made before a request head is complete (RFC 9112 section 2.2).
/// </summary>
internal static class Http1HeadFraming
{
    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    /// <summary>The length of the answer's head in the node connection's buffer, or 0 while it is incomplete.</summary>
    public static int FindHead(BackendConnection backend)
    {
        var index = backend.Buffer.AsSpan(backend.Start, backend.End - backend.Start).IndexOf(HeadEnd);
        return index < 0 ? 0 : index + 4;
    }

    /// <summary>How many bytes of empty lines (CRLF) start <paramref name="buffer"/>.</summary>
    public static long LeadingEmptyLines(ReadOnlySequence<byte> buffer)
    {
        var first = buffer.FirstSpan;
        if (first.Length < 2 || first[0] != '\r' || first[1] != '\n')
        {
            return 0;
        }

        var reader = new SequenceReader<byte>(buffer);
        long count = 0;
        while (reader.IsNext("\r\n"u8, advancePast: true))
        {
            count += 2;
        }

        return count;
    }

    /// <summary>True when <paramref name="buffer"/> holds a whole head; <paramref name="length"/> is its length with
    /// the empty line.</summary>
    public static bool TryFindHeadEnd(ReadOnlySequence<byte> buffer, out long length)
    {
        if (buffer.IsSingleSegment)
        {
            var index = buffer.FirstSpan.IndexOf(HeadEnd);
            length = index + 4;
            return index >= 0;
        }

        var reader = new SequenceReader<byte>(buffer);
        if (reader.TryReadTo(out ReadOnlySequence<byte> _, HeadEnd, advancePastDelimiter: true))
        {
            length = reader.Consumed;
            return true;
        }

        length = 0;
        return false;
    }

    /// <summary>False when the request line is already longer than <see cref="Http1Connection.MaxRequestLineBytes"/>.</summary>
    public static bool FirstLineFits(ReadOnlySequence<byte> buffer)
    {
        var limited = buffer.Length > Http1Connection.MaxRequestLineBytes ? buffer.Slice(0, Http1Connection.MaxRequestLineBytes) : buffer;
        return limited.PositionOf((byte)'\n') is not null || buffer.Length <= Http1Connection.MaxRequestLineBytes;
    }
}

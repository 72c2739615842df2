namespace Tether.Proxy.Http.FastPath;

/// <summary>
/// Follows the chunked transfer coding (RFC 9112 section 7.1) of a body that is forwarded as it is: it finds where
/// the body ends, byte by byte through the framing and chunk by chunk through the data, without copying or decoding.
/// One instance per direction of a connection, <see cref="Reset"/> for each message.
/// </summary>
/// <remarks>Strict: chunk sizes are 1 to <see cref="MaxSizeDigits"/> hex digits below 2^63, lines end with CRLF, a chunk's data is followed by CRLF;
/// chunk extensions (at most <see cref="MaxLineBytes"/> per line) and trailer fields (at most
/// <see cref="MaxTrailerBytes"/> in all) are passed on without being interpreted.</remarks>
internal sealed class ChunkedBodyReader
{
    /// <summary>The most bytes of a chunk-size line's extensions.</summary>
    public const int MaxLineBytes = 4096;

    /// <summary>The most hex digits of a chunk size, leading zeros included.</summary>
    public const int MaxSizeDigits = 16;

    /// <summary>The most bytes of the trailer section.</summary>
    public const int MaxTrailerBytes = 32 * 1024;

    private State _state;
    private long _remaining;
    private int _digits;
    private int _lineBytes;
    private int _trailerBytes;

    private enum State
    {
        Size,
        Extension,
        SizeLf,
        Data,
        DataCr,
        DataLf,
        TrailerStart,
        TrailerLine,
        TrailerLf,
        EndLf,
        Done,
    }

    /// <summary>The body ended (the last chunk and the trailer section were read).</summary>
    public bool IsDone => _state == State.Done;

    /// <summary>Starts over for a new body.</summary>
    public void Reset()
    {
        _state = State.Size;
        _remaining = 0;
        _digits = 0;
        _lineBytes = 0;
        _trailerBytes = 0;
    }

    /// <summary>Reads the framing of <paramref name="data"/> (the next bytes of the body).</summary>
    /// <returns>How many bytes of <paramref name="data"/> belong to the body (all of them, unless the body ends
    /// inside it: <see cref="IsDone"/> is then true); -1 when the framing is invalid.</returns>
    public int Advance(ReadOnlySpan<byte> data)
    {
        var i = 0;
        while (i < data.Length)
        {
            switch (_state)
            {
                case State.Data:
                    {
                        var take = (int)Math.Min(_remaining, data.Length - i);
                        i += take;
                        _remaining -= take;
                        if (_remaining == 0)
                        {
                            _state = State.DataCr;
                        }

                        continue;
                    }

                case State.Done:
                    return i;
            }

            var b = data[i++];
            switch (_state)
            {
                case State.Size:
                    {
                        var digit = HexValue(b);
                        if (digit >= 0)
                        {
                            // At most 16 digits, leading zeros included, and below 2^63 (a larger size would overflow).
                            if (++_digits > MaxSizeDigits || _remaining > (long.MaxValue >> 4))
                            {
                                return -1;
                            }

                            _remaining = (_remaining << 4) | (uint)digit;
                        }
                        else if (_digits == 0)
                        {
                            return -1;
                        }
                        else if (b == '\r')
                        {
                            _state = State.SizeLf;
                        }
                        else if (b == ';' || b == ' ' || b == '\t')
                        {
                            _state = State.Extension;
                            _lineBytes = 0;
                        }
                        else
                        {
                            return -1;
                        }

                        break;
                    }

                case State.Extension:
                    if (b == '\r')
                    {
                        _state = State.SizeLf;
                    }
                    else if (b == '\n' || ++_lineBytes > MaxLineBytes || (b < 0x20 && b != '\t') || b == 0x7F)
                    {
                        return -1;
                    }

                    break;
                case State.SizeLf:
                    if (b != '\n')
                    {
                        return -1;
                    }

                    _digits = 0;
                    _state = _remaining == 0 ? State.TrailerStart : State.Data;
                    break;
                case State.DataCr:
                    if (b != '\r')
                    {
                        return -1;
                    }

                    _state = State.DataLf;
                    break;
                case State.DataLf:
                    if (b != '\n')
                    {
                        return -1;
                    }

                    _state = State.Size;
                    break;
                case State.TrailerStart:
                    if (b == '\r')
                    {
                        _state = State.EndLf;
                    }
                    else if (b == '\n' || b == ' ' || b == '\t')
                    {
                        return -1;
                    }
                    else
                    {
                        _state = State.TrailerLine;
                        if (++_trailerBytes > MaxTrailerBytes)
                        {
                            return -1;
                        }
                    }

                    break;
                case State.TrailerLine:
                    if (b == '\r')
                    {
                        _state = State.TrailerLf;
                    }
                    else if (b == '\n' || ++_trailerBytes > MaxTrailerBytes)
                    {
                        return -1;
                    }

                    break;
                case State.TrailerLf:
                    if (b != '\n')
                    {
                        return -1;
                    }

                    _state = State.TrailerStart;
                    break;
                case State.EndLf:
                    if (b != '\n')
                    {
                        return -1;
                    }

                    _state = State.Done;
                    return i;
            }
        }

        return i;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}

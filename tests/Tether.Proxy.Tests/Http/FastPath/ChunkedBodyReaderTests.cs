using System.Text;
using Tether.Proxy.Http.FastPath;

namespace Tether.Proxy.Tests.Http.FastPath;

/// <summary><see cref="ChunkedBodyReader.Advance"/>: where a chunked body (RFC 9112 section 7.1) ends, however its
/// bytes are split between reads, and which framing it refuses.</summary>
public sealed class ChunkedBodyReaderTests
{
    /// <summary>Complete bodies, by name (the name keeps the test cases readable).</summary>
    public static TheoryData<string> ValidBodies => new(Valid.Keys);

    /// <summary>Invalid bodies, by name.</summary>
    public static TheoryData<string> InvalidBodies => new(Invalid.Keys);

    private static readonly Dictionary<string, string> Valid = new()
    {
        ["one chunk"] = "5\r\nhello\r\n0\r\n\r\n",
        ["empty body"] = "0\r\n\r\n",
        ["several chunks, hex digits in both cases"] = "A\r\n0123456789\r\nf\r\n" + new string('x', 15) + "\r\n1F\r\n" + new string('y', 31) + "\r\n0\r\n\r\n",
        ["leading zeros, 16 digits"] = "0000000000000005\r\nhello\r\n0000000000000000\r\n\r\n",
        ["data that looks like framing"] = "8\r\n" + "0\r\n\r\n0\r\n" + "\r\n0\r\n\r\n",
        ["extensions"] = "5;name=value\r\nhello\r\n3;a;b=\"quoted; \\\" string\"\r\nabc\r\n0;last\r\n\r\n",
        ["BWS before an extension"] = "5 ;a=1\r\nhello\r\n0\t;b\r\n\r\n",
        ["an extension of 4000 bytes"] = "5;" + new string('e', 4000) + "\r\nhello\r\n0\r\n\r\n",
        ["trailers"] = "5\r\nhello\r\n0\r\nX-Trailer: 1\r\nX-Other: two words\r\n\r\n",
        ["trailers of 30000 bytes"] = "1\r\nx\r\n0\r\nX-Big: " + new string('t', 30_000) + "\r\n\r\n",
        ["binary data"] = "4\r\n\r\n\0\xff\r\n0\r\n\r\n",
    };

    private static readonly Dictionary<string, string> Invalid = new()
    {
        ["no digits"] = "\r\nhello\r\n0\r\n\r\n",
        ["extension without size"] = ";ext\r\nhello\r\n0\r\n\r\n",
        ["not hex"] = "g\r\n",
        ["0x prefix"] = "0x5\r\nhello\r\n0\r\n\r\n",
        ["sign"] = "+5\r\nhello\r\n0\r\n\r\n",
        ["17 hex digits"] = "00000000000000005\r\nhello\r\n0\r\n\r\n",
        ["no CRLF after the data"] = "5\r\nhelloX\r\n0\r\n\r\n",
        ["LF only after the data"] = "5\r\nhello\n0\r\n\r\n",
        ["CR then not LF after the data"] = "5\r\nhello\rX0\r\n\r\n",
        ["bare LF after the size"] = "5\nhello\r\n0\r\n\r\n",
        ["bare CR after the size"] = "5\rhello\r\n0\r\n\r\n",
        ["bare LF in an extension"] = "5;a\nhello\r\n0\r\n\r\n",
        ["control character in an extension"] = "5;a\u0001b\r\nhello\r\n0\r\n\r\n",
        ["bare LF after the last chunk"] = "5\r\nhello\r\n0\n\r\n",
        ["bare LF as the end"] = "0\r\n\n",
        ["bare LF in a trailer"] = "0\r\nX: 1\n\r\n",
        ["CR then not LF at the end"] = "0\r\n\rX",
        ["obs-fold in the trailers"] = "0\r\nX: 1\r\n folded\r\n\r\n",
        ["extension over 4096 bytes"] = "5;" + new string('e', 5000) + "\r\nhello\r\n0\r\n\r\n",
        ["trailers over 32 KiB"] = "0\r\nX-Big: " + new string('t', 33 * 1024) + "\r\n\r\n",
        ["many trailers over 32 KiB"] = "0\r\n" + string.Concat(Enumerable.Repeat("X-T: " + new string('t', 1000) + "\r\n", 40)) + "\r\n",
    };

    [Theory]
    [MemberData(nameof(ValidBodies))]
    public void Advance_WholeBody_ConsumesItAllAndIsDone(string name)
    {
        var body = Bytes(Valid[name]);
        var reader = NewReader();

        var used = reader.Advance(body);

        Assert.Equal(body.Length, used);
        Assert.True(reader.IsDone);
    }

    [Theory]
    [MemberData(nameof(ValidBodies))]
    public void Advance_ByteByByte_EndsAtTheSamePosition(string name)
    {
        var body = Bytes(Valid[name]);
        var reader = NewReader();

        var position = 0;
        while (position < body.Length && !reader.IsDone)
        {
            var used = reader.Advance(body.AsSpan(position, 1));
            Assert.True(used == 1, $"byte {position}: Advance returned {used}");
            position++;
        }

        Assert.Equal(body.Length, position);
        Assert.True(reader.IsDone);
    }

    [Theory]
    [MemberData(nameof(ValidBodies))]
    public void Advance_SplitAtEveryOffset_EndsAtTheSamePosition(string name)
    {
        var body = Bytes(Valid[name]);
        var failures = new List<string>();
        for (var split = 0; split <= body.Length; split++)
        {
            var reader = NewReader();
            var first = reader.Advance(body.AsSpan(0, split));
            var doneEarly = reader.IsDone;
            var second = reader.Advance(body.AsSpan(split));
            if (first != split || doneEarly != (split == body.Length) || second != body.Length - split || !reader.IsDone)
            {
                failures.Add($"split at {split}: {first} then {second}, done early {doneEarly}, done {reader.IsDone}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(10)));
    }

    [Theory]
    [MemberData(nameof(ValidBodies))]
    public void Advance_BytesAfterTheEnd_AreNotConsumed(string name)
    {
        var body = Bytes(Valid[name]);
        var next = Bytes("GET /next HTTP/1.1\r\nHost: h\r\n\r\n");
        var reader = NewReader();

        var used = reader.Advance([.. body, .. next]);
        var again = reader.Advance(next);

        Assert.Equal(body.Length, used);
        Assert.True(used < body.Length + next.Length);
        Assert.True(reader.IsDone);
        Assert.Equal(0, again);
    }

    [Fact]
    public void Advance_BytesAfterTheEndSplitInsideTheLastCrlf_AreNotConsumed()
    {
        var reader = NewReader();

        var first = reader.Advance(Bytes("5\r\nhello\r\n0\r\n\r"));
        var second = reader.Advance(Bytes("\nGET / HTTP/1.1\r\n"));

        Assert.Equal(14, first);
        Assert.Equal(1, second);
        Assert.True(reader.IsDone);
    }

    [Fact]
    public void Advance_IncompleteBody_ConsumesAllAndIsNotDone()
    {
        var reader = NewReader();

        var used = reader.Advance(Bytes("5\r\nhel"));

        Assert.Equal(6, used);
        Assert.False(reader.IsDone);
    }

    [Fact]
    public void Reset_AfterABody_ReadsTheNextOne()
    {
        var reader = NewReader();
        reader.Advance(Bytes("3\r\nabc\r\n0\r\nX: 1\r\n\r\n"));

        reader.Reset();
        var used = reader.Advance(Bytes("2\r\nde\r\n0\r\n\r\n"));

        Assert.Equal(12, used);
        Assert.True(reader.IsDone);
    }

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public void Advance_InvalidBody_ReturnsMinusOne(string name)
    {
        var reader = NewReader();

        var used = reader.Advance(Bytes(Invalid[name]));

        Assert.Equal(-1, used);
    }

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public void Advance_InvalidBodyByteByByte_ReturnsMinusOne(string name)
    {
        var body = Bytes(Invalid[name]);
        var reader = NewReader();

        var result = 0;
        for (var i = 0; i < body.Length && result >= 0 && !reader.IsDone; i++)
        {
            result = reader.Advance(body.AsSpan(i, 1));
        }

        Assert.Equal(-1, result);
    }

    [Fact]
    public void Advance_ExtensionAtTheLimit_IsAcceptedAndOneMoreIsNot()
    {
        // The limit counts the extension's bytes after the first ';' (or BWS).
        var atLimit = NewReader().Advance(Bytes("5;" + new string('e', ChunkedBodyReader.MaxLineBytes) + "\r\n"));
        var overLimit = NewReader().Advance(Bytes("5;" + new string('e', ChunkedBodyReader.MaxLineBytes + 1) + "\r\n"));

        Assert.True(atLimit > 0);
        Assert.Equal(-1, overLimit);
    }

    /// <summary>
    /// A chunk size is at most 16 hex digits, but 16 digits can say 2^63 or more, which does not fit the reader's
    /// <c>long</c>: such a size must be refused (as Kestrel refuses a chunk size that overflows). Run on another thread
    /// with a time limit: a reader that takes the negative size as a count of bytes may never return (8000000000000000
    /// does: the thread is left spinning until the test process ends, so only one such case is here).
    /// </summary>
    [Theory]
    [InlineData("8000000000000000")]
    [InlineData("FFFFFFFFFFFFFFFF")]
    public async Task Advance_SizeOf2Pow63OrMore_ReturnsMinusOne(string size)
    {
        var whole = await RunLimitedAsync(() => NewReader().Advance(Bytes(size + "\r\nabcdefgh\r\n0\r\n\r\n")));
        // Not run after a hang: one spinning thread is enough.
        var split = whole == "hung" ? "not run" : await RunLimitedAsync(() =>
        {
            var reader = NewReader();
            var first = reader.Advance(Bytes(size + "\r\n"));
            return first < 0 ? first : reader.Advance(Bytes("abcdefgh\r\n0\r\n\r\n"));
        });

        Assert.Equal("whole: -1, split after the size line: -1", $"whole: {whole}, split after the size line: {split}");
    }

    [Fact]
    public async Task Advance_LargestPositiveSize_IsDataUntilItsEnd()
    {
        var result = await RunLimitedAsync(() =>
        {
            var reader = NewReader();
            var used = reader.Advance(Bytes("7FFFFFFFFFFFFFFF\r\nabc"));
            return $"{used} {reader.IsDone}";
        });

        Assert.Equal("21 False", result);
    }

    private static ChunkedBodyReader NewReader()
    {
        var reader = new ChunkedBodyReader();
        reader.Reset();
        return reader;
    }

    private static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    /// <summary>Runs <paramref name="read"/> on the thread pool and gives its result as text, or the exception's type,
    /// or "hung" after 5 seconds (the thread is left spinning: the test process ends anyway).</summary>
    private static async Task<string> RunLimitedAsync<T>(Func<T> read)
    {
        var task = Task.Factory.StartNew(read, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            return (await task.WaitAsync(TimeSpan.FromSeconds(5)))!.ToString()!;
        }
        catch (TimeoutException)
        {
            return "hung";
        }
        catch (Exception e)
        {
            return e.GetType().Name;
        }
    }
}

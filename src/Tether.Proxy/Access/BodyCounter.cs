using Microsoft.AspNetCore.Http;

namespace Tether.Proxy.Access;

/// <summary>
/// The Kestrel path's per-request measurements for the connection log, made only while connection logging is on (one
/// object and two stream wrappers per request; nothing when it is off): the body bytes read from the client and sent
/// to it, and when the answer's head was sent (<see cref="HttpResponse.OnStarting(Func{object, Task}, object)"/>).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable",
    Justification = "The wrappers own nothing: the request's bodies belong to Kestrel, which disposes them.")]
internal sealed class BodyCounter
{
    private readonly CountingStream _in;
    private readonly CountingStream _out;
    private TimeProvider _time = TimeProvider.System;

    private BodyCounter(HttpContext context)
    {
        _in = new CountingStream(context.Request.Body);
        _out = new CountingStream(context.Response.Body);
        context.Request.Body = _in;
        context.Response.Body = _out;
    }

    /// <summary>Body bytes read from the client.</summary>
    public long BytesIn => _in.Count;

    /// <summary>Body bytes sent to the client.</summary>
    public long BytesOut => _out.Count;

    /// <summary>The <see cref="TimeProvider.GetTimestamp"/> when the answer's head was sent, or 0.</summary>
    public long HeadSent { get; private set; }

    /// <summary>Wraps <paramref name="context"/>'s request and response bodies.</summary>
    /// <param name="context">The request.</param>
    /// <param name="time">The clock of <see cref="HeadSent"/>; the system clock when null.</param>
    public static BodyCounter Attach(HttpContext context, TimeProvider? time = null)
    {
        var counter = new BodyCounter(context) { _time = time ?? TimeProvider.System };
        context.Response.OnStarting(static state =>
        {
            var counter = (BodyCounter)state;
            counter.HeadSent = counter._time.GetTimestamp();
            return Task.CompletedTask;
        }, counter);
        return counter;
    }

    /// <summary>A stream that passes everything through to <c>inner</c> and counts the bytes read and written.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Count;

        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => false;

        public override bool CanWrite => inner.CanWrite;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = inner.Read(buffer, offset, count);
            Count += n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            Count += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Count += count;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Count += buffer.Length;
            return inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
using Tether.Core.Runtime;

namespace Tether.Proxy.Metrics;

/// <summary>
/// The usage counting of an HTTP listener (plain or SSL termination): a connection middleware placed first on the
/// listener, before TLS, that counts the connection as open while it lasts and wraps its transport so that every byte
/// Kestrel or the HTTP/1.1 fast path reads from the client socket and writes to it is added to the load balancer's
/// <see cref="UsageCounters"/> (as in Kestrel's own connection logging middleware). Both HTTP paths and TLS go through
/// the transport, so one wrapper counts them all; on the secure port the bytes are the TLS records.
/// </summary>
/// <remarks>Per connection: the wrapper (three small objects). Per read or write: one <see cref="Interlocked"/>
/// addition and no allocation (a read that has to wait completes through a pooled state machine).</remarks>
internal static class UsageTransport
{
    /// <summary>The middleware counting into <paramref name="counters"/>; <paramref name="ssl"/> for the secure port.</summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> Middleware(UsageCounters counters, bool ssl) => next => async connection =>
    {
        counters.ConnectionOpened(ssl);
        try
        {
            connection.Transport = new CountingDuplexPipe(connection.Transport, counters, ssl);
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            counters.ConnectionClosed(ssl);
        }
    };

    /// <summary><paramref name="first"/> then <paramref name="second"/> (either may be null).</summary>
    public static Func<ConnectionDelegate, ConnectionDelegate>? Then(
        Func<ConnectionDelegate, ConnectionDelegate>? first, Func<ConnectionDelegate, ConnectionDelegate>? second) =>
        first is null ? second : second is null ? first : next => first(second(next));

    private sealed class CountingDuplexPipe(IDuplexPipe inner, UsageCounters counters, bool ssl) : IDuplexPipe
    {
        public PipeReader Input { get; } = new CountingPipeReader(inner.Input, counters, ssl);

        public PipeWriter Output { get; } = new CountingPipeWriter(inner.Output, counters, ssl);
    }

    /// <summary>Counts the bytes the reader consumes (each <see cref="AdvanceTo(SequencePosition, SequencePosition)"/>
    /// measures the consumed part of the last buffer read).</summary>
    private sealed class CountingPipeReader(PipeReader inner, UsageCounters counters, bool ssl) : PipeReader
    {
        private ReadOnlySequence<byte> _last;

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            var pending = inner.ReadAsync(cancellationToken);
            if (pending.IsCompletedSuccessfully)
            {
                var result = pending.Result;
                _last = result.Buffer;
                return new ValueTask<ReadResult>(result);
            }

            return ReadSlowAsync(pending);
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<ReadResult> ReadSlowAsync(ValueTask<ReadResult> pending)
        {
            var result = await pending.ConfigureAwait(false);
            _last = result.Buffer;
            return result;
        }

        public override bool TryRead(out ReadResult result)
        {
            if (inner.TryRead(out result))
            {
                _last = result.Buffer;
                return true;
            }

            return false;
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            var last = _last;
            _last = default;
            if (!last.IsEmpty)
            {
                var bytes = last.Slice(last.Start, consumed).Length;
                if (bytes > 0)
                {
                    counters.AddIncoming(bytes, ssl);
                }
            }

            inner.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
    }

    /// <summary>Counts the bytes written (<see cref="Advance"/> and <see cref="WriteAsync"/>).</summary>
    private sealed class CountingPipeWriter(PipeWriter inner, UsageCounters counters, bool ssl) : PipeWriter
    {
        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void Advance(int bytes)
        {
            inner.Advance(bytes);
            counters.AddOutgoing(bytes, ssl);
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            counters.AddOutgoing(source.Length, ssl);
            return inner.WriteAsync(source, cancellationToken);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
    }
}

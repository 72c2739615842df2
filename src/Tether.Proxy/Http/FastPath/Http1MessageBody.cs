using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Tether.Proxy.Http.FastPath;

/// <summary>
/// The body pumps of one fast-path connection (Kestrel's <c>Http1MessageBody</c>): the request body from the client's
/// pipe to the node, and the answer's body from the node to the client's pipe, each as it comes, framing included
/// (Content-Length, chunked, or until the node closes). Each wait enters its <see cref="Http1Phase"/> so that the
/// heartbeat can cut a side that stopped.
/// </summary>
internal sealed class Http1MessageBody
{
    /// <summary>How much of an answer's body one read from the node may take (a larger read means fewer system calls
    /// per byte; the memory comes from the client pipe's pool).</summary>
    private const int ReceiveChunkBytes = 64 * 1024;

    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly Http1TimeoutControl _timeouts;
    private readonly Http1RequestLog _log;
    private readonly ChunkedBodyReader _chunked = new();

    public Http1MessageBody(PipeReader input, PipeWriter output, Http1TimeoutControl timeouts, Http1RequestLog log)
    {
        _input = input;
        _output = output;
        _timeouts = timeouts;
        _log = log;
    }

    /// <summary>False once the node's framing cannot be trusted (bytes after the end of the answer): the node
    /// connection must not be reused. Set by the exchange before the answer's body, cleared by the pump.</summary>
    public bool Reusable { get; set; }

    /// <summary>Streams the request body (Content-Length or chunked, as it came) from the client to the node.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Http1ExchangeResult> SendRequestBodyAsync(BackendConnection backend, RequestHead request)
    {
        var remaining = request.Chunked ? long.MaxValue : request.ContentLength;
        if (request.Chunked)
        {
            _chunked.Reset();
        }

        while (remaining > 0)
        {
            _timeouts.SetPhase(Http1Phase.Client);
            var result = await _input.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            if (result.IsCanceled || (buffer.IsEmpty && result.IsCompleted))
            {
                return Http1ExchangeResult.ClientGone;
            }

            var take = buffer.Length;
            if (request.Chunked)
            {
                take = 0;
                foreach (var segment in buffer)
                {
                    var used = _chunked.Advance(segment.Span);
                    if (used < 0)
                    {
                        return Http1ExchangeResult.BadRequestBody;
                    }

                    take += used;
                    if (_chunked.IsDone)
                    {
                        remaining = 0;
                        break;
                    }
                }
            }
            else
            {
                take = Math.Min(take, remaining);
                remaining -= take;
            }

            var body = buffer.Slice(0, take);
            _log.BytesIn += take;
            _timeouts.SetPhase(Http1Phase.Node);
            try
            {
                if (body.IsSingleSegment)
                {
                    await backend.SendAsync(body.First).ConfigureAwait(false);
                }
                else
                {
                    // Kestrel's pipe holds the body in 4 KiB blocks: gathered into the node connection's buffer (idle
                    // until the answer comes) so that one send carries up to its size.
                    var staging = backend.Buffer;
                    var filled = 0;
                    foreach (var segment in body)
                    {
                        var rest = segment;
                        while (!rest.IsEmpty)
                        {
                            var copied = Math.Min(rest.Length, staging.Length - filled);
                            rest.Span[..copied].CopyTo(staging.AsSpan(filled));
                            filled += copied;
                            rest = rest[copied..];
                            if (filled == staging.Length)
                            {
                                await backend.SendAsync(staging).ConfigureAwait(false);
                                filled = 0;
                            }
                        }
                    }

                    if (filled > 0)
                    {
                        await backend.SendAsync(staging.AsMemory(0, filled)).ConfigureAwait(false);
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                _input.AdvanceTo(body.End);
                return _timeouts.TimedOut ? Http1ExchangeResult.TimedOut : Http1ExchangeResult.BadGateway;
            }

            _input.AdvanceTo(body.End);
            if (remaining > 0 && result.IsCompleted)
            {
                return Http1ExchangeResult.ClientGone;
            }
        }

        return Http1ExchangeResult.Done;
    }

    /// <summary>Streams the answer's body from the node to the client as it comes, with its framing.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Http1ExchangeResult> CopyResponseBodyAsync(BackendConnection backend, bool noBody, bool chunked, long length)
    {
        var buffered = backend.End - backend.Start;
        var untilClose = !noBody && !chunked && length < 0;
        if (noBody || length == 0)
        {
            if (buffered > 0)
            {
                Reusable = false;
            }

            return await FlushAsync().ConfigureAwait(false) ? Http1ExchangeResult.Done : Http1ExchangeResult.ClientGone;
        }

        var remaining = chunked || untilClose ? long.MaxValue : length;
        if (chunked)
        {
            _chunked.Reset();
        }

        if (buffered > 0)
        {
            var take = Take(backend.Buffer.AsSpan(backend.Start, buffered), chunked, ref remaining);
            if (take < 0)
            {
                return Http1ExchangeResult.Aborted;
            }

            _output.Write(backend.Buffer.AsSpan(backend.Start, take));
            _log.BytesOut += take;
            backend.Start += take;
            if (backend.Start < backend.End)
            {
                Reusable = false; // bytes after the end of the answer: the node's framing cannot be trusted
            }
        }

        if (!await FlushAsync().ConfigureAwait(false))
        {
            return Http1ExchangeResult.ClientGone;
        }

        while (remaining > 0)
        {
            _timeouts.SetPhase(Http1Phase.Node);
            var memory = _output.GetMemory(ReceiveChunkBytes);
            if (memory.Length > remaining)
            {
                memory = memory[..(int)remaining];
            }

            int read;
            try
            {
                read = await backend.ReceiveAsync(memory).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return Http1ExchangeResult.Aborted;
            }

            if (read == 0)
            {
                // The node closed: the end of a body delimited by the close, otherwise an answer cut short.
                return untilClose ? Http1ExchangeResult.Done : Http1ExchangeResult.Aborted;
            }

            var take = Take(memory.Span[..read], chunked, ref remaining);
            if (take < 0)
            {
                return Http1ExchangeResult.Aborted;
            }

            if (take < read)
            {
                Reusable = false;
            }

            _output.Advance(take);
            _log.BytesOut += take;
            if (!await FlushAsync().ConfigureAwait(false))
            {
                return Http1ExchangeResult.ClientGone;
            }
        }

        return Http1ExchangeResult.Done;
    }

    /// <summary>Flushes the client's pipe, waiting on the client (<see cref="Http1Phase.Client"/>).</summary>
    /// <returns>False when the client is gone.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> FlushAsync()
    {
        _timeouts.SetPhase(Http1Phase.Client);
        var flushed = await _output.FlushAsync().ConfigureAwait(false);
        return !flushed.IsCanceled && !flushed.IsCompleted;
    }

    /// <summary>How many of <paramref name="data"/>'s bytes belong to the body; -1 for broken chunked framing.</summary>
    private int Take(ReadOnlySpan<byte> data, bool chunked, ref long remaining)
    {
        if (chunked)
        {
            var used = _chunked.Advance(data);
            if (used >= 0 && _chunked.IsDone)
            {
                remaining = 0;
            }

            return used;
        }

        var take = (int)Math.Min(data.Length, remaining);
        if (remaining != long.MaxValue)
        {
            remaining -= take;
        }

        return take;
    }
}

using System.Net;

namespace Tether.Proxy.Http.FastPath;

/// <summary>
/// The connections of the fast path to one node: the idle keep-alive ones in a fixed array of slots taken and given
/// back with one <see cref="Interlocked"/> exchange each (no lock, no allocation), and the count of every open one
/// (idle, connecting or in use), which <see cref="ProxyOptions.MaxConnectionsPerNode"/> caps.
/// </summary>
/// <remarks>
/// <para>A connection goes back here after every exchange (HAProxy's <c>http-reuse safe</c>): an idle client does not
/// hold a node connection, so 10,000 idle keep-alive clients cost the node nothing (issue 10, R5).</para>
/// <para>At the limit, a request waits in a short queue (at most as many waiters as the limit, each at most
/// <see cref="ProxyOptions.NodeQueueTimeoutSeconds"/>) for a connection to come back or close, as HAProxy's
/// <c>maxconn</c> with <c>timeout queue</c>; <see cref="AcquireAsync"/> then answers null and the client gets a 503.
/// Only that slow path allocates (one <see cref="TaskCompletionSource"/> per release while someone waits).</para>
/// <para>Connections idle longer than the pooled connection idle timeout are closed by <see cref="Sweep"/> (off the
/// request path) or when found on rent.</para>
/// </remarks>
internal sealed class BackendPool : IDisposable
{
    private readonly TimeProvider _clock;

    /// <summary>The most idle connections kept per node; one more is closed instead.</summary>
    public const int Slots = 256;

    private readonly BackendConnection?[] _slots = new BackendConnection?[Slots];
    private readonly long _idleTimeoutMs;
    private readonly int _maxConnections;
    private readonly long _queueTimeoutMs;
    private readonly Limits.ConnectionBudget? _budget;
    private int _idle;
    private int _open;
    private int _waiting;
    private int _hint;
    private long _queueTimeouts;
    private TaskCompletionSource _released = NewSignal();
    private volatile bool _disposed;

    /// <param name="endPoint">The node's address.</param>
    /// <param name="idleTimeoutSeconds">How long an idle connection is kept, in seconds.</param>
    /// <param name="maxConnections">The most open connections to the node (0: no limit).</param>
    /// <param name="queueTimeoutSeconds">How long a request waits for a connection at the limit, in seconds.</param>
    /// <param name="budget">The process's connection budget, which every open connection also counts against.</param>
    /// <param name="clock">The clock of idle times and the queue timeout (default <see cref="TimeProvider.System"/>).</param>
    public BackendPool(IPEndPoint endPoint, int idleTimeoutSeconds, int maxConnections = 0, int queueTimeoutSeconds = 5,
        Limits.ConnectionBudget? budget = null, TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
        _budget = budget;
        EndPoint = endPoint;
        _idleTimeoutMs = idleTimeoutSeconds * 1000L;
        _maxConnections = maxConnections;
        _queueTimeoutMs = queueTimeoutSeconds * 1000L;
    }

    /// <summary>The node's address.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Idle connections now (approximate under concurrency).</summary>
    public int Idle => Volatile.Read(ref _idle);

    /// <summary>Open connections now: idle, connecting and in use.</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>Requests waiting for a connection at the limit now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Requests that got no connection: the queue was full or its timeout passed.</summary>
    public long QueueTimeouts => Volatile.Read(ref _queueTimeouts);

    /// <summary>An idle connection, else a new (not yet connected) one when the limit allows, else one that comes
    /// back or a free place within the queue timeout.</summary>
    /// <returns>The connection (check <see cref="BackendConnection.Uses"/>: 0 for a new one), or null when none could
    /// be had (queue full or timed out; counted in <see cref="QueueTimeouts"/>).</returns>
    public ValueTask<BackendConnection?> AcquireAsync()
    {
        var connection = Rent();
        if (connection is not null)
        {
            return new ValueTask<BackendConnection?>(connection);
        }

        return TryOpen() switch
        {
            Opening.Opened => new ValueTask<BackendConnection?>(BackendConnection.CreateCounted(this)),
            Opening.BudgetSpent => new ValueTask<BackendConnection?>((BackendConnection?)null),
            _ => WaitAsync(),
        };
    }

    /// <summary>Takes an idle connection, or null when there is none.</summary>
    public BackendConnection? Rent()
    {
        while (Volatile.Read(ref _idle) > 0)
        {
            var found = false;
            var start = Volatile.Read(ref _hint);
            for (var i = 0; i < Slots; i++)
            {
                var index = (start - i) & (Slots - 1);
                if (Volatile.Read(ref _slots[index]) is null)
                {
                    continue;
                }

                var connection = Interlocked.Exchange(ref _slots[index], null);
                if (connection is null)
                {
                    continue;
                }

                found = true;
                Interlocked.Decrement(ref _idle);
                Volatile.Write(ref _hint, index);
                if (_clock.Milliseconds() - connection.IdleSince > _idleTimeoutMs || connection.IsDisposed)
                {
                    connection.Dispose();
                    break;
                }

                return connection;
            }

            if (!found)
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>Gives a connection back for reuse; closes it when the pool is full or disposed.</summary>
    public void Return(BackendConnection connection)
    {
        if (_disposed || connection.IsDisposed)
        {
            connection.Dispose();
            return;
        }

        connection.IdleSince = _clock.Milliseconds();
        connection.Start = connection.End = 0;
        var start = Volatile.Read(ref _hint);
        for (var i = 0; i < Slots; i++)
        {
            var index = (start + i) & (Slots - 1);
            if (Interlocked.CompareExchange(ref _slots[index], connection, null) is null)
            {
                Interlocked.Increment(ref _idle);
                Volatile.Write(ref _hint, index);
                if (_disposed)
                {
                    Sweep(closeAll: true);
                }

                if (Volatile.Read(ref _waiting) > 0)
                {
                    Release();
                }

                return;
            }
        }

        connection.Dispose();
    }

    /// <summary>Counts a connection opened outside <see cref="AcquireAsync"/> (<see cref="BackendConnection.Create"/>).</summary>
    internal void CountOpened()
    {
        Interlocked.Increment(ref _open);
        _budget?.Enter();
    }

    /// <summary>A connection of this pool was closed: its place is free.</summary>
    internal void OnClosed()
    {
        Interlocked.Decrement(ref _open);
        _budget?.Exit();
        if (Volatile.Read(ref _waiting) > 0)
        {
            Release();
        }
    }

    /// <summary>Closes the connections idle for longer than the timeout (or all of them).</summary>
    public void Sweep(bool closeAll = false)
    {
        var now = _clock.Milliseconds();
        for (var i = 0; i < Slots; i++)
        {
            var connection = Volatile.Read(ref _slots[i]);
            if (connection is null || (!closeAll && now - connection.IdleSince <= _idleTimeoutMs))
            {
                continue;
            }

            if (ReferenceEquals(Interlocked.CompareExchange(ref _slots[i], null, connection), connection))
            {
                Interlocked.Decrement(ref _idle);
                connection.Dispose();
            }
        }
    }

    /// <summary>Closes every idle connection; connections in use are closed when they come back.</summary>
    public void Dispose()
    {
        _disposed = true;
        Sweep(closeAll: true);
        Release();
    }

    private enum Opening
    {
        Opened,
        NodeLimit,
        BudgetSpent,
    }

    /// <summary>Takes a place for a new connection when the node's limit and the process's budget allow
    /// (lock-free compare-and-swap).</summary>
    private Opening TryOpen()
    {
        while (_maxConnections > 0)
        {
            var open = Volatile.Read(ref _open);
            if (open >= _maxConnections)
            {
                return Opening.NodeLimit;
            }

            if (Interlocked.CompareExchange(ref _open, open + 1, open) == open)
            {
                break;
            }
        }

        if (_maxConnections <= 0)
        {
            Interlocked.Increment(ref _open);
        }

        if (_budget is null || _budget.TryEnter())
        {
            return Opening.Opened;
        }

        Interlocked.Decrement(ref _open);
        return Opening.BudgetSpent;
    }

    /// <summary>The queue at the limit: waits for an idle connection or a free place until the queue timeout.</summary>
    private async ValueTask<BackendConnection?> WaitAsync()
    {
        if (Interlocked.Increment(ref _waiting) > _maxConnections || _disposed)
        {
            Interlocked.Decrement(ref _waiting);
            Interlocked.Increment(ref _queueTimeouts);
            return null;
        }

        try
        {
            var deadline = _clock.Milliseconds() + _queueTimeoutMs;
            while (true)
            {
                // The signal is read before looking: a release after the look completes this signal (no lost wake-up).
                var signal = Volatile.Read(ref _released);
                var connection = Rent();
                if (connection is not null)
                {
                    return connection;
                }

                switch (TryOpen())
                {
                    case Opening.Opened:
                        return BackendConnection.CreateCounted(this);
                    case Opening.BudgetSpent:
                        Interlocked.Increment(ref _queueTimeouts);
                        return null;
                }

                var remaining = deadline - _clock.Milliseconds();
                if (remaining <= 0 || _disposed)
                {
                    Interlocked.Increment(ref _queueTimeouts);
                    return null;
                }

                try
                {
                    await signal.Task.WaitAsync(TimeSpan.FromMilliseconds(remaining)).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // Looked at once more above, then given up.
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    private void Release() => Interlocked.Exchange(ref _released, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

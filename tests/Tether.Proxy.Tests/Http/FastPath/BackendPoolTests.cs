using System.Collections.Concurrent;
using System.Net;
using Tether.Proxy.Http.FastPath;

namespace Tether.Proxy.Tests.Http.FastPath;

/// <summary><see cref="BackendPool"/>: idle keep-alive connections to one node, rented and returned without a lock.
/// The connections are real <see cref="BackendConnection"/>s over sockets that are never connected.</summary>
public sealed class BackendPoolTests : IDisposable
{
    private const int IdleTimeoutSeconds = 60;

    private readonly ManualClock _clock = new();
    private readonly BackendPool _pool;
    private readonly ConcurrentBag<BackendConnection> _created = [];

    public BackendPoolTests() => _pool = new(new IPEndPoint(IPAddress.Loopback, 9), IdleTimeoutSeconds, clock: _clock);

    [Fact]
    public void Rent_EmptyPool_ReturnsNull()
    {
        Assert.Null(_pool.Rent());
        Assert.Equal(0, _pool.Idle);
    }

    [Fact]
    public void Rent_AfterReturn_GivesTheSameInstanceOnce()
    {
        var connection = Create();

        _pool.Return(connection);
        var idle = _pool.Idle;
        var rented = _pool.Rent();
        var second = _pool.Rent();

        Assert.Equal(1, idle);
        Assert.Same(connection, rented);
        Assert.Null(second);
        Assert.False(connection.IsDisposed);
        Assert.Equal(0, _pool.Idle);
    }

    [Fact]
    public void Return_SetsIdleSinceAndClearsTheBuffer()
    {
        var connection = Create();
        connection.Start = 3;
        connection.End = 10;
        _clock.Milliseconds = 123_456;

        _pool.Return(connection);

        Assert.Equal(123_456, connection.IdleSince);
        Assert.Equal(0, connection.Start);
        Assert.Equal(0, connection.End);
    }

    [Fact]
    public void Rent_SeveralReturned_GivesEachOnce()
    {
        var connections = Enumerable.Range(0, 10).Select(_ => Create()).ToList();
        foreach (var connection in connections)
        {
            _pool.Return(connection);
        }

        var rented = new List<BackendConnection>();
        while (_pool.Rent() is { } connection)
        {
            rented.Add(connection);
        }

        Assert.Equal(10, rented.Count);
        Assert.Equal(10, rented.Distinct().Count());
        Assert.All(connections, c => Assert.Contains(c, rented));
    }

    [Fact]
    public void Return_MoreThanSlots_DisposesTheExtras()
    {
        var connections = Enumerable.Range(0, BackendPool.Slots + 3).Select(_ => Create()).ToList();

        foreach (var connection in connections)
        {
            _pool.Return(connection);
        }

        Assert.Equal(BackendPool.Slots, _pool.Idle);
        Assert.Equal(BackendPool.Slots, connections.Count(c => !c.IsDisposed));
        Assert.All(connections.Skip(BackendPool.Slots), c => Assert.True(c.IsDisposed));
    }

    [Fact]
    public void Return_DisposedConnection_IsNotKept()
    {
        var connection = Create();
        connection.Dispose();

        _pool.Return(connection);

        Assert.Equal(0, _pool.Idle);
        Assert.Null(_pool.Rent());
    }

    [Fact]
    public void Dispose_ClosesIdleConnections()
    {
        var connections = Enumerable.Range(0, 3).Select(_ => Create()).ToList();
        foreach (var connection in connections)
        {
            _pool.Return(connection);
        }

        _pool.Dispose();

        Assert.All(connections, c => Assert.True(c.IsDisposed));
        Assert.Equal(0, _pool.Idle);
        Assert.Null(_pool.Rent());
    }

    [Fact]
    public void Return_AfterDispose_DisposesTheConnection()
    {
        var inUse = Create();
        _pool.Dispose();

        _pool.Return(inUse);

        Assert.True(inUse.IsDisposed);
        Assert.Equal(0, _pool.Idle);
        Assert.Null(_pool.Rent());
    }

    [Fact]
    public void Sweep_ClosesOnlyConnectionsIdleLongerThanTheTimeout()
    {
        var old = Create();
        var recent = Create();
        var borderline = Create();
        _pool.Return(old);
        _pool.Return(recent);
        _pool.Return(borderline);
        var now = _clock.Milliseconds;
        old.IdleSince = now - ((IdleTimeoutSeconds + 5) * 1000L);
        borderline.IdleSince = now - ((IdleTimeoutSeconds - 5) * 1000L);

        _pool.Sweep();

        Assert.True(old.IsDisposed);
        Assert.False(recent.IsDisposed);
        Assert.False(borderline.IsDisposed);
        Assert.Equal(2, _pool.Idle);
        var left = new[] { _pool.Rent(), _pool.Rent(), _pool.Rent() };
        Assert.Contains(recent, left);
        Assert.Contains(borderline, left);
        Assert.Null(left[2]);
    }

    [Fact]
    public void Sweep_CloseAll_ClosesEveryIdleConnectionButKeepsThePoolUsable()
    {
        var a = Create();
        var b = Create();
        _pool.Return(a);
        _pool.Return(b);

        _pool.Sweep(closeAll: true);
        var c = Create();
        _pool.Return(c);

        Assert.True(a.IsDisposed);
        Assert.True(b.IsDisposed);
        Assert.Same(c, _pool.Rent());
    }

    [Fact]
    public void Rent_ExpiredConnection_IsDisposedAndSkipped()
    {
        var expired = Create();
        var fresh = Create();
        _pool.Return(fresh);
        _pool.Return(expired);
        expired.IdleSince = _clock.Milliseconds - ((IdleTimeoutSeconds + 1) * 1000L);

        var rented = _pool.Rent();
        var next = _pool.Rent();

        Assert.Same(fresh, rented);
        Assert.True(expired.IsDisposed);
        Assert.Null(next);
    }

    [Fact]
    public void Rent_ConnectionDisposedWhileIdle_IsSkipped()
    {
        var closed = Create();
        var open = Create();
        _pool.Return(open);
        _pool.Return(closed);
        closed.Dispose();

        var rented = _pool.Rent();

        Assert.Same(open, rented);
        Assert.Null(_pool.Rent());
    }

    [Fact]
    public async Task RentAndReturn_FromSeveralThreads_NeverGiveOneConnectionToTwoRenters()
    {
        const int threads = 8;
        const int rounds = 20_000;
        var owners = new ConcurrentDictionary<BackendConnection, int>(ReferenceEqualityComparer.Instance);
        var conflicts = 0;
        var disposedRentals = 0;
        using var start = new Barrier(threads);

        var workers = Enumerable.Range(0, threads).Select(worker => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < rounds; i++)
            {
                var connection = _pool.Rent() ?? Create();
                if (connection.IsDisposed)
                {
                    Interlocked.Increment(ref disposedRentals);
                }

                if (!owners.TryAdd(connection, worker))
                {
                    Interlocked.Increment(ref conflicts);
                    continue;
                }

                if ((i & 7) == 0)
                {
                    Thread.Yield();
                }

                owners.TryRemove(connection, out _);
                _pool.Return(connection);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, conflicts);
        Assert.Equal(0, disposedRentals);
        // Everything made was given back and is idle in the pool (a renter may have found the pool empty while a
        // connection was on its way back, so there can be more than one per thread).
        Assert.InRange(_pool.Idle, 1, BackendPool.Slots);
        Assert.Equal(_pool.Idle, _created.Count(c => !c.IsDisposed));
    }

    public void Dispose()
    {
        _pool.Dispose();
        foreach (var connection in _created)
        {
            connection.Dispose();
        }
    }

    private BackendConnection Create()
    {
        var connection = BackendConnection.Create(_pool);
        _created.Add(connection);
        return connection;
    }

    /// <summary>A clock that stands still at <see cref="Milliseconds"/> (the pool's idle times read it).</summary>
    private sealed class ManualClock : TimeProvider
    {
        public long Milliseconds { get; set; } = 1_000_000;

        public override long TimestampFrequency => 1000;

        public override long GetTimestamp() => Milliseconds;
    }
}

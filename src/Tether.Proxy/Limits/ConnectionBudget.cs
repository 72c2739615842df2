namespace Tether.Proxy.Limits;

/// <summary>
/// The most connections the data plane holds at once over every load balancer, client and node connections together
/// (HAProxy's global <c>maxconn</c>): <see cref="ProxyOptions.MaxOpenConnections"/>, or by default the open file limit
/// less <see cref="ReservedDescriptors"/> for the runtime, the store, logs and the management API. A client connection
/// over the budget is closed as soon as it is accepted (its descriptor comes back at once), a node connection over
/// it is not opened (503), and both are counted in <see cref="Refused"/>; so the process never reaches its descriptor
/// limit, where the runtime would abort it. Lock-free: one compare-and-swap per connection.
/// </summary>
internal sealed class ConnectionBudget
{
    /// <summary>Descriptors kept out of the default budget (runtime threads and pipes, SQLite, logs, the API).</summary>
    public const int ReservedDescriptors = 1024;

    private int _open;
    private long _refused;
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    private long _lastLogged;

    /// <summary>The clock of <see cref="ShouldLog"/> (the system clock unless a test sets one).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The budget (0: no limit).</summary>
    public int Limit { get; set; }

    /// <summary>Connections counted now.</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>Connections refused because the budget was spent, since start.</summary>
    public long Refused => Volatile.Read(ref _refused);

    /// <summary>The default budget for an open file limit of <paramref name="softLimit"/> descriptors.</summary>
    public static int DefaultFor(ulong softLimit) =>
        softLimit >= int.MaxValue ? 0 : (int)Math.Max(64, (long)softLimit - ReservedDescriptors);

    /// <summary>Counts <paramref name="count"/> connections (a layer 4 connection is two: client and node) when the
    /// budget allows them.</summary>
    /// <returns>False (and counted as refused) when the budget is spent.</returns>
    public bool TryEnter(int count = 1)
    {
        var limit = Limit;
        if (limit <= 0)
        {
            Interlocked.Add(ref _open, count);
            return true;
        }

        while (true)
        {
            var open = Volatile.Read(ref _open);
            if (open + count > limit)
            {
                Interlocked.Increment(ref _refused);
                return false;
            }

            if (Interlocked.CompareExchange(ref _open, open + count, open) == open)
            {
                return true;
            }
        }
    }

    /// <summary>Counts <paramref name="count"/> connections whatever the budget (tests' connections).</summary>
    public void Enter(int count = 1) => Interlocked.Add(ref _open, count);

    /// <summary>The connection middleware of an HTTP listener, first on every accepted connection: a connection over
    /// the budget is closed at once (logged at most once every 10 seconds, event 1402).</summary>
    public Func<Microsoft.AspNetCore.Connections.ConnectionDelegate, Microsoft.AspNetCore.Connections.ConnectionDelegate> Middleware(
        Microsoft.Extensions.Logging.ILogger logger) => next => async connection =>
    {
        if (!TryEnter())
        {
            if (ShouldLog())
            {
                ProxyLog.ConnectionBudgetSpent(logger, Limit, Refused);
            }

            connection.Abort();
            return;
        }

        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            Exit();
        }
    };

    /// <summary>A connection counted by <see cref="TryEnter"/> closed.</summary>
    public void Exit(int count = 1) => Interlocked.Add(ref _open, -count);

    /// <summary>True at most once every 10 seconds: whether a refusal should be logged now.</summary>
    public bool ShouldLog()
    {
        var now = Time.GetTimestamp();
        var last = Volatile.Read(ref _lastLogged);
        return (last == 0 || Time.GetElapsedTime(last, now) >= LogInterval) && Interlocked.CompareExchange(ref _lastLogged, now, last) == last;
    }
}

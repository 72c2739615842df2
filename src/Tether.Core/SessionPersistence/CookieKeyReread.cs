namespace Tether.Core.SessionPersistence;

/// <summary>
/// Cluster mode (issue 14): re-reads the shared cookie key set when a request carries a persistence cookie signed with
/// a key id this instance does not hold, so that a key rotated through another instance is honoured here at once
/// instead of after the periodic reload. At most one re-read starts per <see cref="MinInterval"/> (1 second), however
/// many such cookies arrive (a client sending forged key ids costs one store read a second); requests arriving while a
/// re-read runs wait for that same one, for at most <see cref="MaxWait"/> (100 ms). A request that finds no re-read
/// running and one started less than a second ago does not wait: its cookie is invalid, as in single-instance mode.
/// </summary>
/// <remarks>Only requests whose cookie names an unknown key id come here; a cookie of a known key never does, so the
/// request path takes no lock and reads no store. The lock below serializes the decision to start a re-read only.
/// The source of the rule is YARP's lesson (dotnet/yarp#1980): every instance must validate every instance's cookies.</remarks>
public sealed class CookieKeyReread
{
    /// <summary>The least time between the starts of two re-reads.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);

    /// <summary>The longest a request waits for a running re-read; after it, the cookie is judged with the keys held.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromMilliseconds(100);

    private readonly Func<Task> _reread;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private Task? _running;
    private long _lastStart;
    private bool _started;
    private long _count;

    /// <summary>Creates the re-reader.</summary>
    /// <param name="reread">Reads the key set from the store and applies it (the data plane replaces every runtime's
    /// key ring); must not throw (a store that is away leaves the keys as they are).</param>
    /// <param name="time">The clock of the rate limit.</param>
    public CookieKeyReread(Func<Task> reread, TimeProvider time)
    {
        _reread = reread;
        _time = time;
    }

    /// <summary>How many re-reads have started.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>True when a request would wait for a re-read now: one is running, or none started within
    /// <see cref="MinInterval"/>. No lock, no allocation.</summary>
    public bool MayReread
    {
        get
        {
            if (Volatile.Read(ref _running) is { IsCompleted: false })
            {
                return true;
            }

            // Read without the lock: a stale answer only makes one request wait for nothing or judge its cookie a
            // moment early, both as the rate limit allows anyway.
            return !Volatile.Read(ref _started) || _time.GetElapsedTime(Interlocked.Read(ref _lastStart)) >= MinInterval;
        }
    }

    /// <summary>Starts a re-read unless one runs or one started within <see cref="MinInterval"/>, and waits for the
    /// running one for at most <see cref="MaxWait"/>. Never throws for the store; returns at once when rate-limited.</summary>
    /// <param name="cancellationToken">The request's abort.</param>
    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        Task running;
        lock (_lock)
        {
            if (_running is { IsCompleted: false } current)
            {
                running = current;
            }
            else if (_started && _time.GetElapsedTime(_lastStart) < MinInterval)
            {
                return;
            }
            else
            {
                Interlocked.Exchange(ref _lastStart, _time.GetTimestamp());
                Volatile.Write(ref _started, true);
                Interlocked.Increment(ref _count);
                running = Task.Run(_reread, CancellationToken.None);
                Volatile.Write(ref _running, running);
            }
        }

        try
        {
            await running.WaitAsync(MaxWait, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The store is slow: the cookie is judged with the keys held; the re-read still lands for later requests.
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
    }
}

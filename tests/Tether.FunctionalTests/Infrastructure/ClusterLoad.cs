using System.Globalization;
using System.Net.Sockets;

namespace Tether.FunctionalTests.Infrastructure;

/// <summary>
/// Continuous load for the cluster tests (issue 14): each <see cref="StickyClient"/> sends requests back to back (one
/// connection each, as <see cref="StickyClient.GetAsync"/> does) to its load balancer port on the instance address it
/// is currently pointed at, and every outcome is recorded with the test's phase at the moment the request started
/// (the test moves the phase on at each event: a kill, a Redis stop...). <see cref="SwitchAll"/> points every client at
/// another instance at once, as a virtual IP moving does.
/// </summary>
public sealed class ClusterLoad : IAsyncDisposable
{
    private readonly List<Lane> _lanes = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private volatile int _phase;

    /// <summary>The phase new requests are recorded in (0 at the start).</summary>
    public int Phase => _phase;

    /// <summary>The clients, in the order they were added.</summary>
    public IReadOnlyList<Lane> Lanes => _lanes;

    /// <summary>Starts <paramref name="client"/> sending to <paramref name="address"/>:<paramref name="port"/>.</summary>
    public Lane Add(StickyClient client, string address, int port)
    {
        var lane = new Lane(client, port, address);
        _lanes.Add(lane);
        _loops.Add(Task.Run(() => RunAsync(lane)));
        return lane;
    }

    /// <summary>Moves to the next phase and returns it.</summary>
    public int NextPhase() => Interlocked.Increment(ref _phase);

    /// <summary>Points every client at <paramref name="address"/> and moves to the next phase (requests started from
    /// now on are recorded in it); returns the new phase.</summary>
    public int SwitchAll(string address)
    {
        foreach (var lane in _lanes)
        {
            lane.Address = address;
        }

        return NextPhase();
    }

    /// <summary>Waits until every client has at least <paramref name="count"/> answers (200) in
    /// <paramref name="phase"/>; fails after <paramref name="deadline"/> naming the clients short of it.</summary>
    public async Task WaitAnswersAsync(int phase, int count, TimeSpan deadline)
    {
        var start = TimeProvider.System.GetTimestamp();
        while (true)
        {
            var short_ = _lanes.Where(l => l.Answers(phase).Count < count).ToList();
            if (short_.Count == 0)
            {
                return;
            }

            Assert.True(TimeProvider.System.GetElapsedTime(start) < deadline,
                $"{short_.Count.ToString(CultureInfo.InvariantCulture)} clients had fewer than {count.ToString(CultureInfo.InvariantCulture)} answers in phase {phase.ToString(CultureInfo.InvariantCulture)}; first: {short_[0].Client} ({string.Join("; ", short_[0].Failures(phase).Take(3))})");
            await Task.Delay(50);
        }
    }

    /// <summary>Stops every client and waits for the requests in flight.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task RunAsync(Lane lane)
    {
        while (!_stop.IsCancellationRequested)
        {
            var phase = _phase;
            var address = lane.Address;
            try
            {
                lane.Record(phase, address, await lane.Client.GetAsync(address, lane.Port, _stop.Token), null);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
                lane.Record(phase, address, null, e.Message);
                await Task.Delay(10); // a refused connection comes back at once: do not spin
            }
        }
    }

    /// <summary>One client's outcomes.</summary>
    public sealed class Lane
    {
        private readonly List<(int Phase, string Address, string? Node, string? Failure)> _outcomes = [];

        internal Lane(StickyClient client, int port, string address)
        {
            Client = client;
            Port = port;
            Address = address;
        }

        public StickyClient Client { get; }

        public int Port { get; }

        /// <summary>The instance address the next request goes to.</summary>
        public string Address { get; set; }

        /// <summary>The nodes that answered the requests started in <paramref name="phase"/>, in order.</summary>
        public IReadOnlyList<string> Answers(int phase)
        {
            lock (_outcomes)
            {
                return [.. _outcomes.Where(o => o.Phase == phase && o.Node is not null).Select(o => o.Node!)];
            }
        }

        /// <summary>The failures of the requests started in <paramref name="phase"/>: the instance address and the
        /// error.</summary>
        public IReadOnlyList<string> Failures(int phase)
        {
            lock (_outcomes)
            {
                return [.. _outcomes.Where(o => o.Phase == phase && o.Failure is not null).Select(o => $"{o.Address}: {o.Failure}")];
            }
        }

        internal void Record(int phase, string address, string? node, string? failure)
        {
            lock (_outcomes)
            {
                _outcomes.Add((phase, address, node, failure));
            }
        }
    }
}

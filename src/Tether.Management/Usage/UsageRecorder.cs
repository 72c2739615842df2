using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tether.Core;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Management.Storage;

namespace Tether.Management.Usage;

/// <summary>
/// Rolls the data plane's usage counters (<see cref="UsageCounters"/>) up into hourly usage records in the store, for
/// the usage reports (docs/api.md "Usage"). Every <see cref="ManagementOptions.UsagePollSeconds"/> seconds (60 by
/// default) it polls every load balancer: the bytes moved since the last poll go into the load balancer's open record,
/// the connections open now are added to the record's connection sum (Rackspace's <c>averageNumConnections</c> is
/// that sum over <c>numPolls</c>), and the open records are written to the store in one transaction, so a restart
/// loses at most one poll interval of traffic.
/// </summary>
/// <remarks>
/// <para>Records (Rackspace's shape, lbrackspace/atlas-lb): a record covers at most one clock hour (UTC); the poll
/// that crosses the hour closes it at the hour and opens the next. Events open a record of their own, marked with
/// <c>eventType</c>: <c>CREATE_LOADBALANCER</c> (the first record of a load balancer created while this process
/// runs; it starts at the creation time), <c>SSL_ONLY_ON</c>, <c>SSL_MIXED_ON</c>, <c>SSL_OFF</c> (SSL termination
/// mode changed; the record starts at the poll that saw it), and <c>DELETE_LOADBALANCER</c> (a record of no length
/// at the poll that found the load balancer gone, after the last bytes were added to the record before it). Event
/// times are therefore exact for creation and within one poll interval for the others.</para>
/// <para>After a restart the recorder continues the last stored record of each load balancer when it is of the
/// current hour and of the same SSL mode; a load balancer deleted while Tether was down gets its
/// <c>DELETE_LOADBALANCER</c> record at the first poll. Records that ended more than
/// <see cref="ManagementOptions.UsageRetentionDays"/> days ago (90 by default, Rackspace's "historical usage data is
/// available for up to 90 days") are deleted once an hour.</para>
/// <para>Limit: a load balancer created and deleted between two polls leaves no record.</para>
/// </remarks>
public sealed class UsageRecorder : BackgroundService
{
    private readonly TetherStore _store;
    private readonly LoadBalancerService _service;
    private readonly IRuntimeRegistry? _runtimes;
    private readonly TimeProvider _time;
    private readonly ManagementOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _poll = new();
    private readonly Dictionary<int, State> _states = [];
    private Dictionary<int, UsageRecord>? _lastStored;
    private DateTimeOffset _lastPurge = DateTimeOffset.MinValue;
    private readonly DateTimeOffset _startedAt;

    internal UsageRecorder(TetherStore store, LoadBalancerService service, IRuntimeRegistry? runtimes, TimeProvider time,
        ManagementOptions options, ILogger<UsageRecorder> logger)
    {
        _store = store;
        _service = service;
        _runtimes = runtimes;
        _time = time;
        _options = options;
        _logger = logger;
        _startedAt = Truncate(time.GetUtcNow());
    }

    /// <summary>The poll interval.</summary>
    public TimeSpan Interval => TimeSpan.FromSeconds(_options.UsagePollSeconds);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.UsageBackgroundPolling)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                Poll();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_options.UsageBackgroundPolling)
        {
            // A last poll, so that a clean shutdown loses nothing.
            Poll();
        }
    }

    /// <summary>Polls once now (the background loop calls it every interval; tests call it after moving the clock).
    /// Never throws: a failure is logged and the next poll tries again.</summary>
    public void Poll()
    {
        lock (_poll)
        {
            try
            {
                PollCore(Truncate(_time.GetUtcNow()));
            }
            catch (Exception e)
            {
                ManagementLog.UsagePollFailed(_logger, e);
            }
        }
    }

    private void PollCore(DateTimeOffset now)
    {
        var firstPoll = _lastStored is null;
        _lastStored ??= _store.ReadLastUsageRecords();
        var dirty = new List<UsageRecord>();
        var descriptions = new List<UsageLoadBalancer>();
        var live = new HashSet<int>();
        foreach (var config in _service.All)
        {
            live.Add(config.Id);
            var counters = _runtimes?.FindRuntime(config.Id)?.Usage;
            var sample = counters?.Read() ?? default;
            var mode = SslMode(config);
            if (!_states.TryGetValue(config.Id, out var state))
            {
                state = new State(Begin(config, mode, now));
                _states[config.Id] = state;
            }

            if (!ReferenceEquals(state.Counters, counters))
            {
                // A new runtime (first poll of this process): its counters start at zero.
                state.Counters = counters;
                state.Baseline = default;
            }

            var record = state.Record;
            Add(record, state, sample);
            record.End = now;
            record.Vips = config.VirtualIps.Length;
            record.VipType = VipType(config);
            dirty.Add(record);
            if (mode != record.SslMode)
            {
                record.End = now < HourEnd(record.Start) ? now : HourEnd(record.Start);
                state.Record = Open(config, now, mode, UsageNames.SslEvent(mode));
                dirty.Add(state.Record);
            }
            else if (now >= HourEnd(record.Start))
            {
                var hourEnd = HourEnd(record.Start);
                record.End = hourEnd;
                var next = HourStart(now) > hourEnd ? HourStart(now) : hourEnd;
                state.Record = Open(config, next, mode, null);
                state.Record.End = now;
            }

            var json = Description(config);
            if (json != state.Description)
            {
                state.Description = json;
                descriptions.Add(new UsageLoadBalancer(config.Id, config.AccountId, json, null));
            }
        }

        // Deleted since the last poll: the last bytes, then the DELETE_LOADBALANCER record.
        foreach (var (id, state) in _states.ToArray())
        {
            if (live.Contains(id))
            {
                continue;
            }

            var record = state.Record;
            if (state.Counters is { } counters)
            {
                Add(record, state, counters.Read(), poll: false);
            }

            record.End = now;
            dirty.Add(record);
            dirty.Add(Deleted(record, now));
            descriptions.Add(MarkDeleted(new UsageLoadBalancer(id, record.AccountId, state.Description ?? "{}", null), now));
            _states.Remove(id);
        }

        if (firstPoll)
        {
            // Deleted while Tether was not running.
            foreach (var stored in _store.ReadUndeletedUsageLoadBalancers())
            {
                if (!live.Contains(stored.Id))
                {
                    if (_lastStored.TryGetValue(stored.Id, out var last))
                    {
                        dirty.Add(Deleted(last, now));
                    }

                    descriptions.Add(MarkDeleted(stored, now));
                }
            }
        }

        // A record opened at the hour is stored at its first poll (an empty one would only add a row).
        dirty.RemoveAll(r => r.Id == 0 && r.Polls == 0 && r.EventType is null);
        _store.SaveUsage(dirty, descriptions);
        if (now - _lastPurge >= TimeSpan.FromHours(1))
        {
            _lastPurge = now;
            var purged = _store.PurgeUsage(now - TimeSpan.FromDays(_options.UsageRetentionDays));
            if (purged > 0)
            {
                ManagementLog.UsagePurged(_logger, purged, _options.UsageRetentionDays);
            }
        }
    }

    /// <summary>The first record of a load balancer in this process: the stored one continued (same hour, same SSL
    /// mode, not deleted), else a new one; <c>CREATE_LOADBALANCER</c> when the load balancer has no record at all and
    /// was created while this process runs (older ones predate usage recording: their first record starts at the
    /// first poll, without an event).</summary>
    private UsageRecord Begin(LoadBalancerConfig config, string mode, DateTimeOffset now)
    {
        if (_lastStored!.TryGetValue(config.Id, out var last))
        {
            if (last.EventType != UsageNames.DeleteLoadBalancer && last.SslMode == mode && HourStart(last.Start) == HourStart(now))
            {
                return last;
            }

            return Open(config, now, mode, last.SslMode != mode ? UsageNames.SslEvent(mode) : null);
        }

        var created = Truncate(config.Created);
        return created <= now && created >= _startedAt
            ? Open(config, created, mode, UsageNames.CreateLoadBalancer)
            : Open(config, now, mode, null);
    }

    private static void Add(UsageRecord record, State state, UsageSample sample, bool poll = true)
    {
        var baseline = state.Baseline;
        record.Incoming += Math.Max(0, sample.Incoming - baseline.Incoming);
        record.Outgoing += Math.Max(0, sample.Outgoing - baseline.Outgoing);
        record.IncomingSsl += Math.Max(0, sample.IncomingSsl - baseline.IncomingSsl);
        record.OutgoingSsl += Math.Max(0, sample.OutgoingSsl - baseline.OutgoingSsl);
        state.Baseline = sample;
        if (poll)
        {
            record.Polls++;
            record.Connections += Math.Max(0, sample.Connections);
            record.ConnectionsSsl += Math.Max(0, sample.ConnectionsSsl);
        }
    }

    private static UsageRecord Open(LoadBalancerConfig config, DateTimeOffset start, string mode, string? eventType) => new()
    {
        AccountId = config.AccountId,
        LoadBalancerId = config.Id,
        Start = start,
        End = start,
        Vips = config.VirtualIps.Length,
        VipType = VipType(config),
        SslMode = mode,
        EventType = eventType,
    };

    private static UsageRecord Deleted(UsageRecord last, DateTimeOffset now) => new()
    {
        AccountId = last.AccountId,
        LoadBalancerId = last.LoadBalancerId,
        Start = now,
        End = now,
        Vips = last.Vips,
        VipType = last.VipType,
        SslMode = last.SslMode,
        EventType = UsageNames.DeleteLoadBalancer,
    };

    private static UsageLoadBalancer MarkDeleted(UsageLoadBalancer stored, DateTimeOffset now)
    {
        var json = JsonNode.Parse(stored.Json) as JsonObject ?? [];
        json["status"] = LoadBalancerStatus.Deleted;
        json["updated"] = Endpoints.Representations.Time(now);
        return stored with { Json = json.ToJsonString(), Deleted = now };
    }

    /// <summary>The billable listing's item: Rackspace's example is <c>{timeout, created, updated, nodeCount,
    /// algorithm, status, name, id, protocol, port}</c>.</summary>
    internal static string Description(LoadBalancerConfig config) => new JsonObject
    {
        ["id"] = config.Id,
        ["name"] = config.Name,
        ["protocol"] = config.Protocol,
        ["port"] = config.Port,
        ["algorithm"] = config.Algorithm,
        ["timeout"] = config.TimeoutSeconds,
        ["status"] = config.Status,
        ["nodeCount"] = config.Nodes.Length,
        ["created"] = Endpoints.Representations.Time(config.Created),
        ["updated"] = Endpoints.Representations.Time(config.Updated),
    }.ToJsonString();

    /// <summary><c>ON</c> (SSL termination, secure traffic only), <c>MIXED</c> (SSL termination beside plain traffic)
    /// or <c>OFF</c>.</summary>
    internal static string SslMode(LoadBalancerConfig config) => config.SslTermination is { Enabled: true } ssl
        ? ssl.SecureTrafficOnly ? UsageNames.SslOn : UsageNames.SslMixed
        : UsageNames.SslOff;

    private static string VipType(LoadBalancerConfig config)
    {
        foreach (var vip in config.VirtualIps)
        {
            if (vip.Type == VirtualIpType.Public)
            {
                return UsageNames.Public;
            }
        }

        return config.VirtualIps.Length == 0 ? UsageNames.Public : UsageNames.ServiceNet;
    }

    private static DateTimeOffset Truncate(DateTimeOffset time) => DateTimeOffset.FromUnixTimeSeconds(time.ToUnixTimeSeconds());

    private static DateTimeOffset HourStart(DateTimeOffset time) => new(time.UtcDateTime.Year, time.UtcDateTime.Month, time.UtcDateTime.Day, time.UtcDateTime.Hour, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset HourEnd(DateTimeOffset time) => HourStart(time).AddHours(1);

    private sealed class State(UsageRecord record)
    {
        public UsageRecord Record { get; set; } = record;

        public UsageCounters? Counters { get; set; }

        public UsageSample Baseline { get; set; }

        public string? Description { get; set; }
    }
}

using BenchmarkDotNet.Attributes;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;

namespace Tether.Benchmarks;

/// <summary>HTTP_COOKIE issue and validate, Maglev build and lookup, stick-table hit.</summary>
public class PersistenceBenchmarks
{
    private readonly char[] _buffer = new char[PersistenceCookie.EncodedLength];
    private string _cookie = null!;
    private MaglevTable _maglev = null!;
    private NodeState[] _nodes = null!;
    private StickTable _stick = null!;
    private long _unixNow;
    private ulong _hash;

    [GlobalSetup]
    public void Setup()
    {
        _unixNow = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        _cookie = PersistenceCookie.Encode(Fixtures.Keys, 1, 2, _unixNow);
        _nodes = Fixtures.Nodes(25);
        _maglev = MaglevTable.Build(_nodes)!;
        _stick = new StickTable(long.MaxValue / 2);
        for (var i = 0; i < 10_000; i++)
        {
            _stick.Set((UInt128)i, i % 25, 1);
        }

        _hash = StableHash.Of((UInt128)12345);
    }

    [Benchmark]
    public int CookieIssue() => PersistenceCookie.Encode(Fixtures.Keys, 1, 2, _unixNow, _buffer);

    [Benchmark]
    public bool CookieValidate() => PersistenceCookie.TryValidate(Fixtures.Keys, _cookie, 1, _unixNow, 1200, out _, out _);

    [Benchmark]
    public NodeState MaglevLookup() => _maglev.Lookup(_hash);

    [Benchmark]
    public MaglevTable? MaglevBuild25Nodes() => MaglevTable.Build(_nodes);

    [Benchmark]
    public bool StickTableHit() => _stick.TryGet((UInt128)4242, 2, out _);
}

/// <summary>The whole per-request decision: available nodes → persistence → pick, per persistence type.</summary>
public class SelectionBenchmarks
{
    private LoadBalancerRuntime _runtime = null!;
    private string _cookie = string.Empty;
    private UInt128 _client;
    private string _header = string.Empty;

    [Params("none", "HTTP_COOKIE", "APP_COOKIE", "SOURCE_IP", "SOURCE_IP+125%", "HEADER", "HEADER+125%")]
    public string Persistence { get; set; } = "none";

    [GlobalSetup]
    public void Setup()
    {
        SessionPersistenceConfig? persistence = Persistence switch
        {
            "HTTP_COOKIE" => new SessionPersistenceConfig { Type = PersistenceType.HttpCookie },
            "SOURCE_IP" => new SessionPersistenceConfig { Type = PersistenceType.SourceIp },
            "APP_COOKIE" => new SessionPersistenceConfig { Type = PersistenceType.AppCookie, CookieName = "JSESSIONID" },
            "SOURCE_IP+125%" => new SessionPersistenceConfig { Type = PersistenceType.SourceIp, HashBalanceFactor = 125 },
            "HEADER" => new SessionPersistenceConfig { Type = PersistenceType.Header, HeaderName = "X-Session-Id" },
            "HEADER+125%" => new SessionPersistenceConfig { Type = PersistenceType.Header, HeaderName = "X-Session-Id", HashBalanceFactor = 125 },
            _ => null,
        };
        _runtime = new LoadBalancerRuntime(Fixtures.LoadBalancer(3, AlgorithmNames.RoundRobin, persistence), Fixtures.Keys, TimeProvider.System, SharedRandomSource.Instance);
        _client = ClientAddress.ToKey(System.Net.IPAddress.Parse("198.51.100.7"));
        if (Persistence == "HTTP_COOKIE")
        {
            _cookie = PersistenceCookie.Encode(Fixtures.Keys, 1, 2, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        }

        if (Persistence == "APP_COOKIE")
        {
            _client = StableHash.OfCookie("JSESSIONID", "abc123");
            _runtime.LearnAppCookie(_client, 2);
        }

        if (Persistence.StartsWith("HEADER", StringComparison.Ordinal))
        {
            _header = "user-4242";
        }

        _runtime.Select(new PersistenceRequest(_client, _cookie, _client, _header));
        _now = _runtime.Time.GetTimestamp();
    }

    private long _now;

    /// <summary>The HTTP/1.1 fast path's decision: the view (as the data path builds it) and the policy's decision at
    /// the request's timestamp. The fast path reads the runtime's clock once per request, for the node's latency, and
    /// hands that timestamp to the decision (<c>Http1Connection</c>); the clock read is measured on its own below.</summary>
    [Benchmark]
    public Selection Select()
    {
        var snapshot = _runtime.Snapshot;
        return _runtime.Select(snapshot, new PersistenceRequest(_client, _cookie, _client, _header), _now);
    }

    /// <summary>The decision with its own clock read (the overload the Kestrel path, TCP and UDP call).</summary>
    [Benchmark]
    public Selection SelectReadingClock()
    {
        var snapshot = _runtime.Snapshot;
        return _runtime.Select(snapshot, new PersistenceRequest(_client, _cookie, _client, _header));
    }

    /// <summary>One read of the runtime's clock (<see cref="TimeProvider.GetTimestamp"/>), for comparison.</summary>
    [Benchmark]
    public long ClockRead() => _runtime.Time.GetTimestamp();

    /// <summary>The lookup API's read-only run of the same decision.</summary>
    [Benchmark]
    public PersistenceExplanation Explain() => _runtime.Explain(new PersistenceRequest(_client, _cookie, _client, _header));

    /// <summary>A new client placed by hashing (bounded loads walk the nodes' in-flight counts): a fresh key each
    /// call, so the stick table grows during the run; SOURCE_IP and HEADER only.</summary>
    [Benchmark]
    public Selection PlaceNewClient()
    {
        _next++;
        return _runtime.Select(PersistenceRequest.ForClient(_client + _next));
    }

    private ulong _next;
}

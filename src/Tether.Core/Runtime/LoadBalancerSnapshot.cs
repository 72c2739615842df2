using System.Text;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.SessionPersistence;

namespace Tether.Core.Runtime;

/// <summary>
/// The immutable runtime model of one load balancer, built from its <see cref="LoadBalancerConfig"/> when the
/// configuration changes and published by reference swap. The request path only reads it.
/// </summary>
public sealed class LoadBalancerSnapshot
{
    internal LoadBalancerSnapshot(LoadBalancerConfig config, NodeState[] nodes, IRandomSource random, TimeProvider time, IStickTable stickTable)
    {
        Config = config;
        Nodes = nodes;
        var primary = new List<NodeState>();
        var secondary = new List<NodeState>();
        foreach (var node in nodes)
        {
            // Only nodes that may take new traffic enter the rotation, so that round robin and the weighted schedule
            // stay even when the operator disables or drains a node; passive health is checked at pick time.
            if (node.Condition == NodeCondition.Enabled && node.IsOnline)
            {
                (node.Config.Type == NodeType.Secondary ? secondary : primary).Add(node);
            }
        }

        Primary = new NodePool([.. primary], random);
        Secondary = new NodePool([.. secondary], random);
        Algorithm = Algorithms.Get(config.Algorithm);

        var persistence = config.SessionPersistence;
        Persistence = PersistencePolicies.For(persistence?.Type);
        FailurePolicy = PersistenceFailurePolicies.For(persistence);
        PersistenceType = persistence?.Type;
        if (persistence is not null)
        {
            TimeoutSeconds = persistence.EffectiveTimeoutSeconds;
            TtlTicks = TimeoutSeconds * time.TimestampFrequency;
            CookieName = persistence.CookieName ?? Persistence.DefaultCookieName(config.Id);
            if ((Persistence.Inputs & PersistenceInputs.PersistenceCookie) != 0)
            {
                CookieAttributes = BuildCookieAttributes(persistence, TimeoutSeconds);
                CookieRefreshSeconds = Math.Max(1, TimeoutSeconds / 10);
            }

            if ((Persistence.Inputs & PersistenceInputs.Header) != 0)
            {
                PersistenceHeaderName = persistence.HeaderName;
            }

            if (Persistence.HashesNewClients)
            {
                // Hash over the nodes that may take new clients; PRIMARY first, SECONDARY only without any PRIMARY.
                _maglev = MaglevTable.Build(primary.Count > 0 ? primary : secondary);
                MaglevPool = primary.Count > 0 ? Primary : Secondary;
                HashBalanceFactor = persistence.HashBalanceFactor ?? 0;
            }
        }

        // The table outlives snapshots; it owns its idle TTL, set here when the configuration is applied.
        stickTable.Ttl = TtlTicks;
        StickTable = stickTable;
    }

    /// <summary>The configuration this model was built from.</summary>
    public LoadBalancerConfig Config { get; }

    /// <summary>The load balancer id.</summary>
    public int Id => Config.Id;

    /// <summary>Every node, in configuration order.</summary>
    public NodeState[] Nodes { get; }

    /// <summary>The PRIMARY nodes that may take new traffic (ENABLED and ONLINE).</summary>
    public NodePool Primary { get; }

    /// <summary>The SECONDARY nodes that may take new traffic, used only while no PRIMARY node is available.</summary>
    public NodePool Secondary { get; }

    /// <summary>The algorithm that picks when persistence does not decide.</summary>
    public ILoadBalancingAlgorithm Algorithm { get; }

    /// <summary>The persistence policy (<see cref="PersistencePolicies.None"/> when persistence is disabled).</summary>
    public IPersistencePolicy Persistence { get; }

    /// <summary>What happens to a client pinned to a node that cannot serve it (seed 002).</summary>
    public IPersistenceFailurePolicy FailurePolicy { get; }

    /// <summary>The stick table (pins, and the HTTP_COOKIE session view); outlives snapshots of the same type.</summary>
    public IStickTable StickTable { get; }

    /// <summary>The request header the policy reads (<see cref="PersistenceInputs.Header"/>), or <c>null</c>: both
    /// HTTP paths put its value into the <see cref="PersistenceRequest"/>.</summary>
    public string? PersistenceHeaderName { get; }

    /// <summary>The persistence type, or <c>null</c> when persistence is disabled.</summary>
    public PersistenceType? PersistenceType { get; }

    /// <summary>The stickiness duration in seconds (0 when persistence is disabled).</summary>
    public int TimeoutSeconds { get; }

    /// <summary>The stickiness duration in <see cref="TimeProvider.GetTimestamp"/> ticks.</summary>
    public long TtlTicks { get; }

    /// <summary>Whether a request pinned to an unavailable node may go to another node, and a failed attempt be
    /// retried elsewhere (seed 002): <see cref="IPersistenceFailurePolicy.FallsBack"/> of <see cref="FailurePolicy"/>.</summary>
    public bool FallbackEnabled => FailurePolicy.FallsBack;

    /// <summary>HTTP_COOKIE: the inserted cookie's name (default <c>tether-{id}</c>); APP_COOKIE: the application
    /// cookie's name, or <c>*</c> for any cookie a node sets.</summary>
    public string? CookieName { get; }

    /// <summary>HTTP_COOKIE: the attributes after the value, starting with <c>"; "</c>
    /// (Max-Age, Path, Domain, Secure, HttpOnly, SameSite).</summary>
    public string? CookieAttributes { get; }

    /// <summary>HTTP_COOKIE: a valid cookie older than this many seconds is re-issued so the browser's Max-Age
    /// follows the idle timeout (a tenth of the timeout, at least 1 s).</summary>
    public int CookieRefreshSeconds { get; }

    private readonly MaglevTable? _maglev;
    private MaglevTable? _slowStartMaglev;

    /// <summary>Policies that hash new clients (<see cref="IPersistencePolicy.HashesNewClients"/>: SOURCE_IP, HEADER): the
    /// consistent-hashing table, or <c>null</c> when no node can take new clients. During a
    /// slow start, the table of the effective weights (<see cref="SetSlowStartMaglev"/>).</summary>
    public MaglevTable? Maglev => Volatile.Read(ref _slowStartMaglev) ?? _maglev;

    /// <summary>Policies that hash new clients: the pool whose nodes <see cref="Maglev"/> hashes over (PRIMARY, or SECONDARY without any
    /// PRIMARY); <c>null</c> otherwise.</summary>
    public NodePool? MaglevPool { get; }

    /// <summary>Slow start (issue 13): publishes the Maglev table built over <see cref="MaglevPool"/> with the
    /// effective weights, or <c>null</c> to go back to the configured weights. Off the hot path.</summary>
    public void SetSlowStartMaglev(MaglevTable? table) => Volatile.Write(ref _slowStartMaglev, table);

    /// <summary>Bounded loads for a new client placed by hashing: the factor in percent (0: off).</summary>
    public int HashBalanceFactor { get; }

    /// <summary>The default name of the inserted cookie of load balancer <paramref name="loadBalancerId"/>.</summary>
    public static string DefaultCookieName(int loadBalancerId) => $"tether-{loadBalancerId}";

    /// <summary>The node with id <paramref name="nodeId"/>, or <c>null</c>. Linear over at most 25 nodes; no allocation.</summary>
    public NodeState? FindNode(int nodeId)
    {
        var nodes = Nodes;
        for (var i = 0; i < nodes.Length; i++)
        {
            if (nodes[i].Id == nodeId)
            {
                return nodes[i];
            }
        }

        return null;
    }

    private static string BuildCookieAttributes(SessionPersistenceConfig p, int timeoutSeconds)
    {
        var sb = new StringBuilder();
        sb.Append("; Max-Age=").Append(timeoutSeconds);
        sb.Append("; Path=").Append(p.CookiePath ?? "/");
        if (!string.IsNullOrEmpty(p.CookieDomain))
        {
            sb.Append("; Domain=").Append(p.CookieDomain);
        }

        if (p.CookieSecure == true)
        {
            sb.Append("; Secure");
        }

        if (p.CookieHttpOnly != false)
        {
            sb.Append("; HttpOnly");
        }

        sb.Append("; SameSite=").Append(p.CookieSameSite ?? "Lax");
        return sb.ToString();
    }
}

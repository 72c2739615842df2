using Microsoft.Extensions.Time.Testing;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.SessionPersistence;

namespace Tether.Core.Tests;

/// <summary>Small builders for configurations, node states, pools and key rings used across the tests.</summary>
internal static class TestConfigs
{
    public const int LoadBalancerId = 7;

    /// <summary>The fixed start of every fake clock: 2025-01-01T00:00:00Z.</summary>
    public static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static FakeTimeProvider Clock() => new(Start);

    /// <summary>A node with address 10.0.0.{id}:8443 unless given.</summary>
    public static NodeConfig Node(
        int id,
        int weight = 1,
        NodeCondition condition = NodeCondition.Enabled,
        NodeType type = NodeType.Primary,
        NodeStatus status = NodeStatus.Online,
        string? address = null,
        int port = 8443) => new()
        {
            Id = id,
            Address = address ?? $"10.0.0.{id}",
            Port = port,
            Weight = weight,
            Condition = condition,
            Type = type,
            Status = status,
        };

    public static LoadBalancerConfig LoadBalancer(params NodeConfig[] nodes) => new()
    {
        Id = LoadBalancerId,
        AccountId = 1,
        Name = "lb",
        Protocol = Protocols.Http,
        Port = 80,
        Created = Start,
        Updated = Start,
        VirtualIps = [new VirtualIpConfig { Id = 1, Address = "127.0.0.1", Type = VirtualIpType.Public }],
        Nodes = [.. nodes],
    };

    public static LoadBalancerConfig WithCookie(this LoadBalancerConfig config, bool disableFallback = false, int? timeoutSeconds = null) =>
        config with
        {
            SessionPersistence = new SessionPersistenceConfig
            {
                Type = PersistenceType.HttpCookie,
                DisableFallback = disableFallback ? true : null,
                PersistenceTimeoutSeconds = timeoutSeconds,
            },
        };

    public static LoadBalancerConfig WithSourceIp(this LoadBalancerConfig config, bool disableFallback = false, int? timeoutSeconds = null) =>
        config with
        {
            SessionPersistence = new SessionPersistenceConfig
            {
                Type = PersistenceType.SourceIp,
                DisableFallback = disableFallback ? true : null,
                PersistenceTimeoutSeconds = timeoutSeconds,
            },
        };

    /// <summary>APP_COOKIE persistence following the application cookie <paramref name="cookieName"/>
    /// (<c>null</c>: any cookie, <c>*</c>).</summary>
    public static LoadBalancerConfig WithAppCookie(this LoadBalancerConfig config, string? cookieName = "SESSIONID", bool disableFallback = false, int? timeoutSeconds = null) =>
        config with
        {
            SessionPersistence = new SessionPersistenceConfig
            {
                Type = PersistenceType.AppCookie,
                CookieName = cookieName,
                DisableFallback = disableFallback ? true : null,
                PersistenceTimeoutSeconds = timeoutSeconds,
            },
        };

    /// <summary>The stick-table key of an HTTP_COOKIE session id, as the runtime stores it.</summary>
    public static UInt128 SessionKey(long sessionId) => (UInt128)(ulong)sessionId;

    public static LoadBalancerConfig WithAlgorithm(this LoadBalancerConfig config, string algorithm) =>
        config with { Algorithm = algorithm };

    public static NodeState State(NodeConfig config) => new(config, new NodeCounters());

    public static NodeState[] States(params NodeConfig[] configs) => [.. configs.Select(State)];

    public static NodePool Pool(params NodeState[] nodes) => new(nodes, new SeededRandomSource(12345));

    public static byte[] Secret(byte fill) => Enumerable.Repeat(fill, 32).ToArray();

    public static CookieKeyRing Ring(params byte[] ids) => new(ids.Select(id => new CookieKey(id, Secret(id))));

    /// <summary>Extracts the cookie value from a Set-Cookie header value: between the first '=' and the first ';'.</summary>
    public static string CookieValue(string setCookie)
    {
        var eq = setCookie.IndexOf('=');
        var semi = setCookie.IndexOf(';');
        return setCookie[(eq + 1)..(semi < 0 ? setCookie.Length : semi)];
    }

    /// <summary>A distinct IPv4 client key per index: 192.168.x.y / 172.16.x.y ...</summary>
    public static UInt128 ClientKey(int index) =>
        ClientAddress.ToKey(new System.Net.IPAddress(new byte[] { 100, (byte)(index >> 16), (byte)(index >> 8), (byte)index }));
}

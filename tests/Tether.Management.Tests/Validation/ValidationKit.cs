using System.Text.Json;
using Tether.Core.Model;
using Tether.Management.Api;
using Tether.Management.Requests;
using Tether.Management.Validation;

namespace Tether.Management.Tests.Validation;

/// <summary>Requests read from JSON as the endpoints read them (FieldReader and the request types), and the
/// configurations the validators check them against.</summary>
internal static class ValidationKit
{
    public static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static FieldReader Reader(string json, string prefix = "") =>
        new(JsonDocument.Parse(json).RootElement.Clone(), prefix, new ReadIssues());

    public static LoadBalancerRequest LoadBalancer(string json, bool create = true) => LoadBalancerRequest.Read(Reader(json), create);

    public static SessionPersistenceRequest Persistence(string json) => SessionPersistenceRequest.Read(Reader(json));

    public static HealthMonitorRequest Monitor(string json) => HealthMonitorRequest.Read(Reader(json));

    public static NodeRequest Node(string json, string path = "nodes[0]") => NodeRequest.Read(Reader(json, path), withMetadata: true);

    public static MetadataRequest Meta(string json, string path) => MetadataRequest.Read(Reader(json, path));

    public static ValidationContext Context(params LoadBalancerConfig[] all) =>
        new(1, all, new ManagementOptions { PublicAddress = "127.0.0.1", PublicAddressV6 = "::1", PrivateAddress = "127.0.0.2" });

    /// <summary>A stored load balancer: HTTP on <paramref name="port"/>, one PUBLIC virtual IP 127.0.0.1, one node.</summary>
    public static LoadBalancerConfig Existing(int id = 1, string protocol = Protocols.Http, int port = 80) => new()
    {
        Id = id,
        AccountId = 1,
        Name = "lb" + id,
        Protocol = protocol,
        Port = port,
        Created = T0,
        Updated = T0,
        VirtualIps = [new VirtualIpConfig { Id = id, Address = "127.0.0.1", Type = VirtualIpType.Public }],
        Nodes = [new NodeConfig { Id = 10 * id, Address = "10.0.0.1", Port = 80 }],
    };

    /// <summary>A create body: the given fields after name, protocol, port, one PUBLIC virtual IP and one node.</summary>
    public static string CreateBody(string extra = "", string protocol = "HTTP", int port = 8080) =>
        $$"""{"name":"a","protocol":"{{protocol}}","port":{{port}},"virtualIps":[{"type":"PUBLIC"}],"nodes":[{"address":"10.0.0.1","port":80}]{{(extra.Length == 0 ? "" : "," + extra)}}}""";
}

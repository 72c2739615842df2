using System.Text.Json;
using Tether.Management.Api;

namespace Tether.Management.Requests;

/// <summary>
/// A load balancer as a request body gives it (POST and PUT <c>/loadbalancers[/{id}]</c>), before validation.
/// Null means absent; type errors are in <see cref="Issues"/>.
/// </summary>
internal sealed class LoadBalancerRequest
{
    public required ReadIssues Issues { get; init; }

    /// <summary>The names of the fields present in the body (for PUT, which accepts only some).</summary>
    public required IReadOnlyList<string> PresentFields { get; init; }

    public string? Name { get; init; }
    public string? Protocol { get; init; }
    public int? Port { get; init; }
    public string? Algorithm { get; init; }
    public int? Timeout { get; init; }
    public bool? HalfClosed { get; init; }
    public bool? HttpsRedirect { get; init; }

    /// <summary><c>slowStartSeconds</c> (issue 13; additive): null when absent.</summary>
    public int? SlowStartSeconds { get; init; }
    public IReadOnlyList<VirtualIpRequest>? VirtualIps { get; init; }
    public IReadOnlyList<NodeRequest>? Nodes { get; init; }
    public SessionPersistenceRequest? SessionPersistence { get; init; }
    public HealthMonitorRequest? HealthMonitor { get; init; }
    public IReadOnlyList<MetadataRequest>? Metadata { get; init; }

    /// <summary>The <c>accessList</c> array of a create body (validated by the service with the access list rules),
    /// or null when absent.</summary>
    public JsonElement? AccessList { get; init; }

    /// <summary>The <c>connectionThrottle</c> object of a create body, or null when absent.</summary>
    public JsonElement? ConnectionThrottle { get; init; }

    /// <summary><c>connectionLogging.enabled</c> of a create body; null when absent.</summary>
    public bool? ConnectionLogging { get; init; }

    /// <summary><c>contentCaching.enabled</c> of a create body; null when absent (or <c>contentCaching</c> is null).
    /// A <c>contentCaching</c> object without <c>enabled</c> is an error (<see cref="ContentCachingMissingEnabled"/>).</summary>
    public bool? ContentCaching { get; init; }

    /// <summary>True when a create body carries a <c>contentCaching</c> object without <c>enabled</c>.</summary>
    public bool ContentCachingMissingEnabled { get; init; }

    /// <summary>True when the body asks for connection logging: <c>connectionLogging</c> is present and is anything but
    /// <c>{"enabled": false}</c> (which asks for nothing, and is what GET shows for every load balancer). Read
    /// leniently: the field is otherwise ignored at creation.</summary>
    public bool ConnectionLoggingRequested { get; init; }

    /// <summary>Reads a create (<paramref name="create"/>) or PUT body. Fields outside the body's
    /// <see cref="FieldSet"/> (and, at creation, outside each nested object's) are reported to the issues; a PUT
    /// refuses the nested objects as a whole (see <see cref="Validation.LoadBalancerValidator.ValidateUpdate"/>).</summary>
    public static LoadBalancerRequest Read(FieldReader reader, bool create)
    {
        reader.CheckFields(create ? FieldSet.LoadBalancerCreate : FieldSet.LoadBalancerUpdate);
        FieldReader Checked(FieldReader nested, FieldSet fields)
        {
            if (create)
            {
                nested.CheckFields(fields);
            }

            return nested;
        }

        var hasLogging = reader.Element.TryGetProperty("connectionLogging", out var logging)
            && logging.ValueKind != JsonValueKind.Null;
        bool? loggingEnabled = null;
        if (create && reader.Object("connectionLogging") is { } loggingReader)
        {
            loggingReader.CheckFields(FieldSet.ConnectionLogging);
            loggingEnabled = loggingReader.Bool("enabled");
        }

        bool? cachingEnabled = null;
        var cachingMissingEnabled = false;
        if (create && reader.Object("contentCaching") is { } cachingReader)
        {
            cachingReader.CheckFields(FieldSet.ContentCaching);
            cachingEnabled = cachingReader.Bool("enabled");
            cachingMissingEnabled = cachingEnabled is null && !reader.Issues.IsInvalid(cachingReader.PathOf("enabled"));
        }

        JsonElement? accessList = null;
        JsonElement? throttle = null;
        if (create && reader.Element.TryGetProperty("accessList", out var list) && list.ValueKind != JsonValueKind.Null)
        {
            if (list.ValueKind == JsonValueKind.Array)
            {
                accessList = list;
            }
            else
            {
                reader.Issues.Add("accessList", "must be an array of network items [{\"address\",\"type\"}]");
            }
        }

        if (create && reader.Object("connectionThrottle") is { } throttleReader)
        {
            throttle = throttleReader.Element;
        }

        return new()
        {
            Issues = reader.Issues,
            PresentFields = [.. reader.PresentNames()],
            Name = reader.String("name"),
            Protocol = reader.String("protocol"),
            Port = reader.Int("port"),
            Algorithm = reader.String("algorithm"),
            Timeout = reader.Int("timeout"),
            HalfClosed = reader.Bool("halfClosed"),
            HttpsRedirect = reader.Bool("httpsRedirect"),
            SlowStartSeconds = reader.Int("slowStartSeconds"),
            VirtualIps = reader.ObjectArray("virtualIps")?.Select(r => VirtualIpRequest.Read(Checked(r, FieldSet.VirtualIp))).ToList(),
            Nodes = reader.ObjectArray("nodes")?.Select(r => NodeRequest.Read(Checked(r, FieldSet.NodeAtCreation), withMetadata: create)).ToList(),
            SessionPersistence = reader.Object("sessionPersistence") is { } persistence
                ? SessionPersistenceRequest.Read(Checked(persistence, FieldSet.SessionPersistence))
                : null,
            HealthMonitor = reader.Object("healthMonitor") is { } monitor
                ? HealthMonitorRequest.Read(Checked(monitor, FieldSet.HealthMonitor))
                : null,
            Metadata = reader.ObjectArray("metadata")?.Select(r => MetadataRequest.Read(Checked(r, FieldSet.Metadata))).ToList(),
            AccessList = accessList,
            ConnectionThrottle = throttle,
            ConnectionLogging = loggingEnabled,
            ContentCaching = cachingEnabled,
            ContentCachingMissingEnabled = cachingMissingEnabled,
            ConnectionLoggingRequested = hasLogging
                && !(logging.ValueKind == JsonValueKind.Object
                    && logging.TryGetProperty("enabled", out var enabled)
                    && enabled.ValueKind == JsonValueKind.False),
        };
    }
}

/// <summary>One entry of <c>virtualIps</c> in a create request: <c>{"type":"PUBLIC|SERVICENET","ipVersion"?}</c> or
/// <c>{"id":N}</c> (share a virtual IP of the same account); also the body of <c>POST /virtualips</c>
/// (<c>{"ipVersion":"IPV6","type":"PUBLIC"}</c>).</summary>
internal sealed class VirtualIpRequest
{
    public required string Path { get; init; }
    public Api.ReadIssues Issues { get; init; } = new();
    public int? Id { get; init; }
    public string? Type { get; init; }
    public string? IpVersion { get; init; }

    public static VirtualIpRequest Read(FieldReader reader) => new()
    {
        Path = reader.Prefix,
        Issues = reader.Issues,
        Id = reader.Int("id"),
        Type = reader.String("type"),
        IpVersion = reader.String("ipVersion"),
    };
}

/// <summary>One metadata item in a create request: <c>{"key","value"}</c>.</summary>
internal sealed class MetadataRequest
{
    public required string Path { get; init; }
    public required ReadIssues Issues { get; init; }
    public string? Key { get; init; }
    public string? Value { get; init; }

    /// <summary>The items of a metadata array field (<c>metadata</c> of a create body or a node), each checked against
    /// <see cref="FieldSet.Metadata"/>; null when absent or not an array (reported to the issues).</summary>
    public static List<MetadataRequest>? ReadArray(FieldReader parent, string name = "metadata") =>
        parent.ObjectArray(name)?.Select(r =>
        {
            r.CheckFields(FieldSet.Metadata);
            return Read(r);
        }).ToList();

    public static MetadataRequest Read(FieldReader reader) => new()
    {
        Path = reader.Prefix,
        Issues = reader.Issues,
        Key = reader.String("key"),
        Value = reader.String("value"),
    };
}

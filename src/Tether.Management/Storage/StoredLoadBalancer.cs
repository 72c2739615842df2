using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Tether.Core.Model;

namespace Tether.Management.Storage;

/// <summary>
/// The stored JSON document of one load balancer (column <c>load_balancers.json</c>). A stable mapping owned by the
/// store, independent of the API's shapes and of the model's C# names: rename nothing here without a schema
/// migration. Enums are stored by their API names; timestamps as ISO 8601 round-trip strings.
/// </summary>
internal sealed class StoredLoadBalancer
{
    public int Id { get; set; }
    public int AccountId { get; set; }
    public string Name { get; set; } = "";
    public string Protocol { get; set; } = "";
    public int Port { get; set; }
    public string Algorithm { get; set; } = "";
    public int TimeoutSeconds { get; set; }
    public bool HalfClosed { get; set; }
    public bool HttpsRedirect { get; set; }
    public string Status { get; set; } = "";
    public string Created { get; set; } = "";
    public string Updated { get; set; } = "";
    public StoredVirtualIp[] VirtualIps { get; set; } = [];
    public StoredNode[] Nodes { get; set; } = [];
    public StoredSessionPersistence? SessionPersistence { get; set; }
    public StoredSslTermination? SslTermination { get; set; }
    public StoredHealthMonitor? HealthMonitor { get; set; }
    public StoredMetadataItem[] Metadata { get; set; } = [];

    // Added by issue 6; absent in older documents (read as empty / off / default page).
    public StoredAccessListItem[]? AccessList { get; set; }
    public StoredConnectionThrottle? ConnectionThrottle { get; set; }
    public bool? ConnectionLogging { get; set; }
    public string? ErrorPage { get; set; }

    // Added by issue 12; absent in older documents (read as off).
    public bool? ContentCaching { get; set; }

    // Added by issue 13 (slow start); absent in older documents (read as 0, off).
    public int? SlowStartSeconds { get; set; }

    public static string Serialize(LoadBalancerConfig config) =>
        JsonSerializer.Serialize(FromConfig(config), StoreJsonContext.Default.StoredLoadBalancer);

    /// <exception cref="InvalidDataException">The document is not a valid stored load balancer.</exception>
    public static LoadBalancerConfig Deserialize(string json)
    {
        StoredLoadBalancer? stored;
        try
        {
            stored = JsonSerializer.Deserialize(json, StoreJsonContext.Default.StoredLoadBalancer);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException("A stored load balancer document is not valid JSON: " + ex.Message, ex);
        }

        return (stored ?? throw new InvalidDataException("A stored load balancer document is null.")).ToConfig();
    }

    private static StoredLoadBalancer FromConfig(LoadBalancerConfig c) => new()
    {
        Id = c.Id,
        AccountId = c.AccountId,
        Name = c.Name,
        Protocol = c.Protocol,
        Port = c.Port,
        Algorithm = c.Algorithm,
        TimeoutSeconds = c.TimeoutSeconds,
        HalfClosed = c.HalfClosed,
        HttpsRedirect = c.HttpsRedirect,
        Status = c.Status,
        Created = c.Created.ToString("O", CultureInfo.InvariantCulture),
        Updated = c.Updated.ToString("O", CultureInfo.InvariantCulture),
        VirtualIps = [.. c.VirtualIps.Select(v => new StoredVirtualIp
        {
            Id = v.Id, Address = v.Address, Type = ApiNames.VirtualIpType(v.Type), IpVersion = v.IpVersion,
        })],
        Nodes = [.. c.Nodes.Select(n => new StoredNode
        {
            Id = n.Id,
            Address = n.Address,
            Port = n.Port,
            Condition = ApiNames.Condition(n.Condition),
            Type = ApiNames.NodeType(n.Type),
            Weight = n.Weight,
            Status = ApiNames.NodeStatus(n.Status),
            Metadata = n.Metadata.IsEmpty ? null : [.. n.Metadata.Select(m => new StoredMetadataItem { Id = m.Id, Key = m.Key, Value = m.Value })],
            DrainingSince = n.DrainingSince?.ToString("O", CultureInfo.InvariantCulture),
        })],
        SessionPersistence = c.SessionPersistence is { } p
            ? new StoredSessionPersistence
            {
                PersistenceType = PersistenceTypeNames.ToName(p.Type),
                CookieName = p.CookieName,
                PersistenceTimeoutSeconds = p.PersistenceTimeoutSeconds,
                DisableFallback = p.DisableFallback,
                CookiePath = p.CookiePath,
                CookieDomain = p.CookieDomain,
                CookieSecure = p.CookieSecure,
                CookieHttpOnly = p.CookieHttpOnly,
                CookieSameSite = p.CookieSameSite,
                HeaderName = p.HeaderName,
                HashBalanceFactor = p.HashBalanceFactor,
            }
            : null,
        SslTermination = c.SslTermination is { } ssl
            ? new StoredSslTermination
            {
                Certificate = ssl.Certificate,
                PrivateKey = ssl.PrivateKey,
                IntermediateCertificate = ssl.IntermediateCertificate,
                SecurePort = ssl.SecurePort,
                Enabled = ssl.Enabled,
                SecureTrafficOnly = ssl.SecureTrafficOnly,
                CertificateMappings = ssl.CertificateMappings.IsEmpty
                    ? null
                    : [.. ssl.CertificateMappings.Select(m => new StoredCertificateMapping
                    {
                        Id = m.Id,
                        HostName = m.HostName,
                        Certificate = m.Certificate,
                        PrivateKey = m.PrivateKey,
                        IntermediateCertificate = m.IntermediateCertificate,
                    })],
            }
            : null,
        HealthMonitor = c.HealthMonitor is { } h
            ? new StoredHealthMonitor
            {
                Type = HealthMonitorTypeNames.ToName(h.Type),
                DelaySeconds = h.DelaySeconds,
                TimeoutSeconds = h.TimeoutSeconds,
                AttemptsBeforeDeactivation = h.AttemptsBeforeDeactivation,
                Path = h.Path,
                StatusRegex = h.StatusRegex,
                BodyRegex = h.BodyRegex,
                HostHeader = h.HostHeader,
            }
            : null,
        Metadata = [.. c.Metadata.Select(m => new StoredMetadataItem { Id = m.Id, Key = m.Key, Value = m.Value })],
        AccessList = c.AccessList.IsEmpty
            ? null
            : [.. c.AccessList.Select(a => new StoredAccessListItem { Id = a.Id, Address = a.Address, Type = ApiNames.AccessListType(a.Type) })],
        ConnectionThrottle = c.ConnectionThrottle is { } t
            ? new StoredConnectionThrottle
            {
                MaxConnections = t.MaxConnections,
                MinConnections = t.MinConnections,
                MaxConnectionRate = t.MaxConnectionRate,
                RateInterval = t.RateInterval,
            }
            : null,
        ConnectionLogging = c.ConnectionLogging ? true : null,
        ErrorPage = c.ErrorPage,
        ContentCaching = c.ContentCaching ? true : null,
        SlowStartSeconds = c.SlowStartSeconds > 0 ? c.SlowStartSeconds : null,
    };

    private LoadBalancerConfig ToConfig()
    {
        return new LoadBalancerConfig
        {
            Id = Id,
            AccountId = AccountId,
            Name = Name,
            Protocol = Protocol,
            Port = Port,
            Algorithm = Algorithm,
            TimeoutSeconds = TimeoutSeconds,
            HalfClosed = HalfClosed,
            HttpsRedirect = HttpsRedirect,
            Status = Status,
            Created = ParseTime(Created),
            Updated = ParseTime(Updated),
            VirtualIps = [.. VirtualIps.Select(v => new VirtualIpConfig
            {
                Id = v.Id,
                Address = v.Address,
                Type = ApiNames.TryParseVirtualIpType(v.Type, out var t) ? t : throw Invalid("virtual IP type", v.Type),
                IpVersion = v.IpVersion,
            })],
            Nodes = [.. Nodes.Select(n => new NodeConfig
            {
                Id = n.Id,
                Address = n.Address,
                Port = n.Port,
                Condition = ApiNames.TryParseCondition(n.Condition, out var c) ? c : throw Invalid("node condition", n.Condition),
                Type = ApiNames.TryParseNodeType(n.Type, out var t) ? t : throw Invalid("node type", n.Type),
                Weight = n.Weight,
                Status = ApiNames.TryParseNodeStatus(n.Status, out var s) ? s : throw Invalid("node status", n.Status),
                Metadata = n.Metadata is null ? [] : [.. n.Metadata.Select(m => new MetadataItem(m.Id, m.Key, m.Value))],
                DrainingSince = n.DrainingSince is { } since ? ParseTime(since) : null,
            })],
            SessionPersistence = SessionPersistence is { } p
                ? new SessionPersistenceConfig
                {
                    Type = PersistenceTypeNames.TryParse(p.PersistenceType, out var pt)
                        ? pt
                        : throw Invalid("persistence type", p.PersistenceType),
                    CookieName = p.CookieName,
                    PersistenceTimeoutSeconds = p.PersistenceTimeoutSeconds,
                    DisableFallback = p.DisableFallback,
                    CookiePath = p.CookiePath,
                    CookieDomain = p.CookieDomain,
                    CookieSecure = p.CookieSecure,
                    CookieHttpOnly = p.CookieHttpOnly,
                    CookieSameSite = p.CookieSameSite,
                    HeaderName = p.HeaderName,
                    HashBalanceFactor = p.HashBalanceFactor,
                }
                : null,
            SslTermination = SslTermination is { } ssl
                ? new SslTerminationConfig
                {
                    Certificate = ssl.Certificate,
                    PrivateKey = ssl.PrivateKey,
                    IntermediateCertificate = ssl.IntermediateCertificate,
                    SecurePort = ssl.SecurePort,
                    Enabled = ssl.Enabled,
                    SecureTrafficOnly = ssl.SecureTrafficOnly,
                    CertificateMappings = ssl.CertificateMappings is null
                        ? []
                        : [.. ssl.CertificateMappings.Select(m => new CertificateMappingConfig
                        {
                            Id = m.Id,
                            HostName = m.HostName,
                            Certificate = m.Certificate,
                            PrivateKey = m.PrivateKey,
                            IntermediateCertificate = m.IntermediateCertificate,
                        })],
                }
                : null,
            HealthMonitor = HealthMonitor is { } h
                ? new HealthMonitorConfig
                {
                    Type = HealthMonitorTypeNames.TryParse(h.Type, out var ht) ? ht : throw Invalid("health monitor type", h.Type),
                    DelaySeconds = h.DelaySeconds,
                    TimeoutSeconds = h.TimeoutSeconds,
                    AttemptsBeforeDeactivation = h.AttemptsBeforeDeactivation,
                    Path = h.Path,
                    StatusRegex = h.StatusRegex,
                    BodyRegex = h.BodyRegex,
                    HostHeader = h.HostHeader,
                }
                : null,
            Metadata = [.. Metadata.Select(m => new MetadataItem(m.Id, m.Key, m.Value))],
            AccessList = AccessList is null
                ? []
                : [.. AccessList.Select(a => new AccessListItem(a.Id, a.Address,
                    ApiNames.TryParseAccessListType(a.Type, out var at) ? at : throw Invalid("access list type", a.Type)))],
            ConnectionThrottle = ConnectionThrottle is { } t
                ? new ConnectionThrottleConfig
                {
                    MaxConnections = t.MaxConnections,
                    MinConnections = t.MinConnections,
                    MaxConnectionRate = t.MaxConnectionRate,
                    RateInterval = t.RateInterval,
                }
                : null,
            ConnectionLogging = ConnectionLogging ?? false,
            ErrorPage = ErrorPage,
            ContentCaching = ContentCaching ?? false,
            SlowStartSeconds = SlowStartSeconds ?? 0,
        };
    }

    private static DateTimeOffset ParseTime(string value) =>
        DateTimeOffset.TryParseExact(value, "O", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)
            ? time
            : throw Invalid("timestamp", value);

    private static InvalidDataException Invalid(string what, string? value) =>
        new($"A stored load balancer document holds an unknown {what} '{value}'.");
}

internal sealed class StoredVirtualIp
{
    public int Id { get; set; }
    public string Address { get; set; } = "";
    public string Type { get; set; } = "";
    public string IpVersion { get; set; } = "IPV4";
}

internal sealed class StoredNode
{
    public int Id { get; set; }
    public string Address { get; set; } = "";
    public int Port { get; set; }
    public string Condition { get; set; } = "";
    public string Type { get; set; } = "";
    public int Weight { get; set; }
    public string Status { get; set; } = "";

    // Added by issue 12 (node metadata); absent in older documents and when the node has none (read as empty).
    public StoredMetadataItem[]? Metadata { get; set; }

    // Added by issue 13 (drain progress): when the node became DRAINING; absent otherwise and in older documents.
    public string? DrainingSince { get; set; }
}

internal sealed class StoredSslTermination
{
    public string Certificate { get; set; } = "";
    public string PrivateKey { get; set; } = "";
    public string? IntermediateCertificate { get; set; }
    public int SecurePort { get; set; }
    public bool Enabled { get; set; }
    public bool SecureTrafficOnly { get; set; }

    // Added by issue 12; absent in older documents and when there is none (read as empty).
    public StoredCertificateMapping[]? CertificateMappings { get; set; }
}

/// <summary>A certificate mapping of SSL termination (issue 12).</summary>
internal sealed class StoredCertificateMapping
{
    public int Id { get; set; }
    public string HostName { get; set; } = "";
    public string Certificate { get; set; } = "";
    public string PrivateKey { get; set; } = "";
    public string? IntermediateCertificate { get; set; }
}

internal sealed class StoredSessionPersistence
{
    public string PersistenceType { get; set; } = "";
    public string? CookieName { get; set; }
    public int? PersistenceTimeoutSeconds { get; set; }
    public bool? DisableFallback { get; set; }
    public string? CookiePath { get; set; }
    public string? CookieDomain { get; set; }
    public bool? CookieSecure { get; set; }
    public bool? CookieHttpOnly { get; set; }
    public string? CookieSameSite { get; set; }
    public string? HeaderName { get; set; }
    public int? HashBalanceFactor { get; set; }
}

/// <summary>The health monitor (absent from documents written before health monitoring, which load as none).</summary>
internal sealed class StoredHealthMonitor
{
    public string Type { get; set; } = "";
    public int DelaySeconds { get; set; }
    public int TimeoutSeconds { get; set; }
    public int AttemptsBeforeDeactivation { get; set; }
    public string? Path { get; set; }
    public string? StatusRegex { get; set; }
    public string? BodyRegex { get; set; }
    public string? HostHeader { get; set; }
}

internal sealed class StoredAccessListItem
{
    public int Id { get; set; }
    public string Address { get; set; } = "";
    public string Type { get; set; } = "";
}

internal sealed class StoredConnectionThrottle
{
    public int MaxConnections { get; set; }
    public int? MinConnections { get; set; }
    public int? MaxConnectionRate { get; set; }
    public int? RateInterval { get; set; }
}

internal sealed class StoredMetadataItem
{
    public int Id { get; set; }
    public string Key { get; set; } = "";
    public string Value { get; set; } = "";
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(StoredLoadBalancer))]
internal sealed partial class StoreJsonContext : JsonSerializerContext;

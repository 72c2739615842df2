namespace Tether.Management.Api;

/// <summary>
/// The fields one JSON object of a request may carry (issue 11): <see cref="Known"/> fields are read; fields in
/// <see cref="Tolerated"/> are read-only fields that real Rackspace SDKs send when they echo an object back (pkgcloud,
/// pyrax; see docs/api.md "Unknown fields") and are accepted and ignored; fields in <see cref="Unsupported"/> are
/// refused with their reason; any other field is a 400 <c>path.name: unknown field; did you mean ...?</c>, as
/// Rackspace refuses fields outside its schema ("JSON does not match the expected schema").
/// </summary>
internal sealed class FieldSet
{
    private const string ReadOnlyAtCreation = "is read-only (set by Tether); leave it out when creating a load balancer";

    /// <summary>The fields read from the object, in documentation order (suggestions and messages list them).</summary>
    public required IReadOnlyList<string> Known { get; init; }

    /// <summary>Read-only fields an SDK sends back; accepted and ignored.</summary>
    public IReadOnlySet<string> Tolerated { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Rackspace fields Tether refuses here, each with the message to give (after <c>path:</c>).</summary>
    public IReadOnlyDictionary<string, string> Unsupported { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Names only suggested, never accepted: the object's own root key (<c>{"sessionpersistence":{...}}</c>
    /// sent without it reads as a bare object whose only field is the misspelled root key).</summary>
    public IReadOnlyList<string> SuggestOnly { get; init; } = [];

    /// <summary>A load balancer in <c>POST /loadbalancers</c>.</summary>
    public static readonly FieldSet LoadBalancerCreate = new()
    {
        Known = ["name", "protocol", "port", "algorithm", "timeout", "halfClosed", "httpsRedirect", "virtualIps", "nodes",
            "sessionPersistence", "healthMonitor", "metadata", "connectionLogging", "accessList", "connectionThrottle",
            "contentCaching", "slowStartSeconds"],
        Unsupported = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["id"] = ReadOnlyAtCreation,
            ["status"] = ReadOnlyAtCreation,
            ["created"] = ReadOnlyAtCreation,
            ["updated"] = ReadOnlyAtCreation,
            ["nodeCount"] = ReadOnlyAtCreation,
            ["cluster"] = ReadOnlyAtCreation,
            ["sourceAddresses"] = ReadOnlyAtCreation,
            // Rackspace refuses it too ("Please visit {account id}/loadbalancers/{load balancer id}/ssltermination to
            // configure ssl termination.", openstack-atlas LoadBalancerValidator), so no SDK sends one (issue 12, item 8).
            ["sslTermination"] = "cannot be given at creation; configure it after with PUT /loadbalancers/{id}/ssltermination",
            ["errorpage"] = "cannot be given at creation; set it after with PUT /loadbalancers/{id}/errorpage",
        },
        SuggestOnly = ["loadBalancer"],
    };

    /// <summary>A load balancer in <c>PUT /loadbalancers/{id}</c>: the updatable fields, and the other load balancer
    /// fields, which the validator refuses with their own message.</summary>
    public static readonly FieldSet LoadBalancerUpdate = new()
    {
        Known = ["name", "algorithm", "protocol", "port", "timeout", "halfClosed", "httpsRedirect", "id", "status",
            "created", "updated", "virtualIps", "nodes", "nodeCount", "sessionPersistence", "metadata", "cluster",
            "connectionLogging", "connectionThrottle", "healthMonitor", "accessList", "sourceAddresses",
            "contentCaching", "sslTermination", "errorPage", "slowStartSeconds"],
        SuggestOnly = ["loadBalancer"],
    };

    /// <summary>An entry of <c>virtualIps</c> at creation. <c>address</c> is tolerated: pkgcloud's VirtualIp objects
    /// (and a virtual IP copied from a GET to share it) carry it.</summary>
    public static readonly FieldSet VirtualIp = new()
    {
        Known = ["id", "type", "ipVersion"],
        Tolerated = new HashSet<string>(StringComparer.Ordinal) { "address" },
    };

    /// <summary>The body of <c>POST /loadbalancers/{id}/virtualips</c>: <c>{"ipVersion":"IPV6","type":"PUBLIC"}</c>
    /// (pkgcloud's addIPV6VirtualIp; Rackspace v1.0 "Add virtual IP version 6").</summary>
    public static readonly FieldSet VirtualIpAdded = new()
    {
        Known = ["ipVersion", "type"],
        Unsupported = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["id"] = "cannot be given: a new virtual IP gets its id; to share a virtual IP, give {\"id\":N} in virtualIps when creating a load balancer",
            ["address"] = "cannot be given: an IPV6 virtual IP binds the IPv6 public address Tether is configured with (PublicAddressV6)",
        },
        SuggestOnly = ["virtualIp"],
    };

    /// <summary>A node inside <c>POST /loadbalancers</c>. <c>id</c>, <c>loadBalancerId</c> and <c>status</c> are
    /// tolerated: pkgcloud sends its Node objects as they are (Node.toJSON), and pyrax's Node.to_dict sends
    /// <c>id</c>.</summary>
    public static readonly FieldSet NodeAtCreation = new()
    {
        Known = ["address", "port", "condition", "type", "weight", "metadata"],
        Tolerated = new HashSet<string>(StringComparer.Ordinal) { "id", "loadBalancerId", "status" },
    };

    /// <summary>A node in <c>POST /loadbalancers/{id}/nodes</c>. <c>id</c> is tolerated: pyrax's Node.to_dict sends
    /// it (null for a new node).</summary>
    public static readonly FieldSet NodeAdded = new()
    {
        Known = ["address", "port", "condition", "type", "weight", "metadata"],
        Tolerated = new HashSet<string>(StringComparer.Ordinal) { "id" },
    };

    /// <summary>A node in <c>PUT /loadbalancers/{id}/nodes/{nodeId}</c> (address, port and status are refused by the
    /// validator as immutable or read-only).</summary>
    public static readonly FieldSet NodeUpdate = new()
    {
        Known = ["condition", "type", "weight", "address", "port", "status"],
        Unsupported = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["metadata"] = "cannot be changed by PUT /loadbalancers/{id}/nodes/{nodeId}; use /loadbalancers/{id}/nodes/{nodeId}/metadata",
        },
        SuggestOnly = ["node"],
    };

    /// <summary>The object of <c>POST /loadbalancers/{id}/nodes</c> around its nodes.</summary>
    public static readonly FieldSet NodesBody = new() { Known = ["nodes"] };

    /// <summary>The object of <c>POST /loadbalancers/{id}/accesslist</c> around its items.</summary>
    public static readonly FieldSet AccessListBody = new() { Known = ["accessList"] };

    /// <summary>A metadata item (in a create body, a node, or POST <c>/metadata</c>).</summary>
    public static readonly FieldSet Metadata = new() { Known = ["key", "value"] };

    /// <summary>The object of POST <c>/metadata</c> around its items.</summary>
    public static readonly FieldSet MetadataBody = new() { Known = ["metadata"] };

    /// <summary>The <c>meta</c> object of PUT <c>/metadata/{metaId}</c> (key and id are refused by the validator as
    /// immutable).</summary>
    public static readonly FieldSet MetaUpdate = new() { Known = ["value", "key", "id"], SuggestOnly = ["meta"] };

    /// <summary>The session persistence object.</summary>
    public static readonly FieldSet SessionPersistence = new()
    {
        Known = ["persistenceType", "cookieName", "persistenceTimeout", "disableFallback", "cookiePath", "cookieDomain",
            "cookieSecure", "cookieHttpOnly", "cookieSameSite", "headerName", "hashBalanceFactor"],
        SuggestOnly = ["sessionPersistence"],
    };

    /// <summary>The health monitor object.</summary>
    public static readonly FieldSet HealthMonitor = new()
    {
        Known = ["type", "delay", "timeout", "attemptsBeforeDeactivation", "path", "statusRegex", "bodyRegex", "hostHeader"],
        SuggestOnly = ["healthMonitor"],
    };

    /// <summary>An access list item.</summary>
    public static readonly FieldSet AccessListItem = new() { Known = ["address", "type"] };

    /// <summary>The connection throttle object.</summary>
    public static readonly FieldSet ConnectionThrottle = new()
    {
        Known = ["maxConnections", "minConnections", "maxConnectionRate", "rateInterval"],
        SuggestOnly = ["connectionThrottle"],
    };

    /// <summary>The error page object.</summary>
    public static readonly FieldSet ErrorPage = new() { Known = ["content"], SuggestOnly = ["errorpage"] };

    /// <summary>The connection logging object.</summary>
    public static readonly FieldSet ConnectionLogging = new() { Known = ["enabled"], SuggestOnly = ["connectionLogging"] };

    /// <summary>The content caching object (<c>PUT /contentcaching</c> and <c>contentCaching</c> at creation).</summary>
    public static readonly FieldSet ContentCaching = new() { Known = ["enabled"], SuggestOnly = ["contentCaching"] };

    /// <summary>The SSL termination object. <c>privatekey</c> (lower case) is Rackspace's own spelling, which
    /// pkgcloud, fog and pyrax send; <c>privateKey</c> is accepted too.</summary>
    public static readonly FieldSet SslTermination = new()
    {
        Known = ["certificate", "privateKey", "privatekey", "intermediateCertificate", "securePort", "enabled", "secureTrafficOnly"],
        SuggestOnly = ["sslTermination"],
    };

    /// <summary>A certificate mapping (POST and PUT <c>/ssltermination/certificatemappings</c>). <c>id</c> is read so
    /// that its refusal says why (Rackspace: "Certificate mapping id field cannot be modified.").</summary>
    public static readonly FieldSet CertificateMapping = new()
    {
        Known = ["hostName", "certificate", "privateKey", "intermediateCertificate", "id"],
        SuggestOnly = ["certificateMapping"],
    };

    /// <summary><c>unknown field; did you mean cookieSecure?</c> when a known name is near (same letters ignoring
    /// case, an edit distance of at most a third of the name (3 at most), or a known name that starts or ends with the
    /// given one), else
    /// <c>unknown field (known fields: a, b)</c>. <c>did you mean</c> also considers the
    /// <see cref="SuggestOnly"/> names.</summary>
    public static string UnknownMessage(string name, FieldSet fields)
    {
        var candidates = fields.Known.Concat(fields.SuggestOnly).Where(c => c != name).Distinct(StringComparer.Ordinal).ToList();
        return NameSuggestion.Closest(name, candidates) is { } near
            ? $"unknown field; did you mean {near}?"
            : $"unknown field (known fields: {string.Join(", ", fields.Known)})";
    }
}

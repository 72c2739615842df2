using System.Globalization;
using System.Text.Json.Nodes;
using Tether.Core.Model;

namespace Tether.Management.Endpoints;

/// <summary>The API's response shapes (Rackspace Cloud Load Balancers v1.0, docs/api.md), built explicitly so
/// that field order, names and omissions are exact.</summary>
internal static class Representations
{
    /// <summary>The cluster name every load balancer reports.</summary>
    public const string ClusterName = "tether";

    /// <summary><c>{"id","name","protocol","port","algorithm","status","timeout","halfClosed","httpsRedirect",
    /// "slowStartSeconds"? (Tether's, issue 13; absent when 0, off),"cluster","virtualIps","nodes","nodeCount","sessionPersistence"? (absent when disabled),"healthMonitor"? (absent
    /// when none),"accessList"? (absent when empty),"connectionThrottle"? (absent when none),"connectionLogging",
    /// "contentCaching","metadata","created","updated"}</c></summary>
    /// <param name="c">The load balancer.</param>
    /// <param name="sourceAddresses">Its <c>sourceAddresses</c> (<see cref="SourceAddresses"/>; after <c>cluster</c>),
    /// or null to leave the field out (lists).</param>
    public static JsonObject LoadBalancer(LoadBalancerConfig c, JsonObject? sourceAddresses = null)
    {
        var body = new JsonObject
        {
            ["id"] = c.Id,
            ["name"] = c.Name,
            ["protocol"] = c.Protocol,
            ["port"] = c.Port,
            ["algorithm"] = c.Algorithm,
            ["status"] = c.Status,
            ["timeout"] = c.TimeoutSeconds,
            ["halfClosed"] = c.HalfClosed,
            ["httpsRedirect"] = c.HttpsRedirect,
            ["cluster"] = new JsonObject { ["name"] = ClusterName },
            ["sourceAddresses"] = sourceAddresses,
            ["virtualIps"] = VirtualIps(c),
            ["nodes"] = Nodes(c.Nodes),
            ["nodeCount"] = c.Nodes.Length,
        };
        if (sourceAddresses is null)
        {
            body.Remove("sourceAddresses");
        }

        if (c.SlowStartSeconds > 0)
        {
            // After httpsRedirect, so that a load balancer without slow start has the Rackspace shape exactly.
            body.Insert(body.IndexOf("httpsRedirect") + 1, "slowStartSeconds", c.SlowStartSeconds);
        }

        if (c.SessionPersistence is { } persistence)
        {
            body["sessionPersistence"] = SessionPersistence(persistence);
        }

        if (c.HealthMonitor is { } monitor)
        {
            body["healthMonitor"] = HealthMonitor(monitor);
        }


        if (!c.AccessList.IsEmpty)
        {
            body["accessList"] = AccessList(c.AccessList);
        }

        if (c.ConnectionThrottle is { } throttle)
        {
            body["connectionThrottle"] = ConnectionThrottle(throttle);
        }

        body["connectionLogging"] = new JsonObject { ["enabled"] = c.ConnectionLogging };
        body["contentCaching"] = ContentCaching(c);
        body["metadata"] = Metadata(c.Metadata);
        body["created"] = Time(c.Created);
        body["updated"] = Time(c.Updated);
        return body;
    }

    /// <summary><c>{"ipv6Public"?,"ipv4Servicenet"?,"ipv4Public"?}</c> (Rackspace's order): each the setting
    /// <c>Management:SourceAddresses:...</c>, else the matching virtual IP address setting when it is not the wildcard,
    /// else left out (see <see cref="ManagementOptions.SourceAddresses"/>).</summary>
    public static JsonObject SourceAddresses(ManagementOptions options)
    {
        var body = new JsonObject();
        Add("ipv6Public", options.SourceAddresses.Ipv6Public, options.PublicAddressV6);
        Add("ipv4Servicenet", options.SourceAddresses.Ipv4Servicenet, options.PrivateAddress);
        Add("ipv4Public", options.SourceAddresses.Ipv4Public, options.PublicAddress);
        return body;

        void Add(string name, string? configured, string virtualIp)
        {
            if (!string.IsNullOrEmpty(configured))
            {
                body[name] = System.Net.IPAddress.Parse(configured).ToString();
            }
            else if (System.Net.IPAddress.TryParse(virtualIp, out var address)
                && !address.Equals(System.Net.IPAddress.Any) && !address.Equals(System.Net.IPAddress.IPv6Any))
            {
                body[name] = address.ToString();
            }
        }
    }

    /// <summary><c>{"enabled":true|false}</c>: the body of <c>GET /contentcaching</c> under <c>contentCaching</c>, and
    /// the <c>contentCaching</c> of a load balancer (shown always, as in Rackspace's load balancer details; fog's and
    /// mimic's mocks of the v1.0 API carry <c>"contentCaching":{"enabled":false}</c>).</summary>
    public static JsonObject ContentCaching(LoadBalancerConfig c) => new() { ["enabled"] = c.ContentCaching };

    /// <summary><c>[{"address","id","type"}]</c> (Rackspace networkItem order).</summary>
    public static JsonArray AccessList(IEnumerable<AccessListItem> items) => new([.. items.Select(i => (JsonNode)new JsonObject
    {
        ["address"] = i.Address,
        ["id"] = i.Id,
        ["type"] = ApiNames.AccessListType(i.Type),
    })]);

    /// <summary><c>{"maxConnections","minConnections"?,"maxConnectionRate"?,"rateInterval"?}</c>; <c>{}</c> when
    /// none is set.</summary>
    public static JsonObject ConnectionThrottle(ConnectionThrottleConfig? t)
    {
        var body = new JsonObject();
        if (t is null)
        {
            return body;
        }

        body["maxConnections"] = t.MaxConnections;
        if (t.MinConnections is { } min)
        {
            body["minConnections"] = min;
        }

        if (t.MaxConnectionRate is { } rate)
        {
            body["maxConnectionRate"] = rate;
        }

        if (t.RateInterval is { } interval)
        {
            body["rateInterval"] = interval;
        }

        return body;
    }

    /// <summary>An item of <c>{"loadBalancers":[...]}</c>: <c>{id,name,protocol,port,algorithm,status,nodeCount,
    /// virtualIps,created,updated}</c>.</summary>
    public static JsonObject LoadBalancerSummary(LoadBalancerConfig c) => new()
    {
        ["id"] = c.Id,
        ["name"] = c.Name,
        ["protocol"] = c.Protocol,
        ["port"] = c.Port,
        ["algorithm"] = c.Algorithm,
        ["status"] = c.Status,
        ["nodeCount"] = c.Nodes.Length,
        ["virtualIps"] = VirtualIps(c),
        ["created"] = Time(c.Created),
        ["updated"] = Time(c.Updated),
    };

    public static JsonArray Nodes(IEnumerable<NodeConfig> nodes) => new([.. nodes.Select(n => (JsonNode)Node(n))]);

    /// <summary><c>{"id","address","port","condition","status","weight","type","drainingSince"?,"metadata"?}</c>;
    /// weight always shown; <c>drainingSince</c> (Tether's, issue 13: ISO 8601 UTC) only while the node is DRAINING;
    /// <c>metadata</c> (<c>[{"id","key","value"}]</c>) only when the node has items.</summary>
    public static JsonObject Node(NodeConfig n)
    {
        var body = new JsonObject
        {
            ["id"] = n.Id,
            ["address"] = n.Address,
            ["port"] = n.Port,
            ["condition"] = ApiNames.Condition(n.Condition),
            ["status"] = ApiNames.NodeStatus(n.Status),
            ["weight"] = n.Weight,
            ["type"] = ApiNames.NodeType(n.Type),
        };
        if (n.DrainingSince is { } since)
        {
            // Tether's (issue 13): when the node became DRAINING, ISO 8601 UTC.
            body["drainingSince"] = since.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }

        if (!n.Metadata.IsEmpty)
        {
            body["metadata"] = Metadata(n.Metadata);
        }

        return body;
    }

    /// <summary>Metadata items as Rackspace lists them: <c>[{"id","key","value"}]</c>.</summary>
    public static JsonArray Metadata(IEnumerable<MetadataItem> items) => new([.. items.Select(m => (JsonNode)Meta(m))]);

    /// <summary>One metadata item: <c>{"id","key","value"}</c> (the body of Show Metadata, under <c>meta</c>).</summary>
    public static JsonObject Meta(MetadataItem m) => new()
    {
        ["id"] = m.Id,
        ["key"] = m.Key,
        ["value"] = m.Value,
    };

    /// <summary>The session persistence object: <c>persistenceType</c> first, then only the fields that were set
    /// (docs/api.md).</summary>
    public static JsonObject SessionPersistence(SessionPersistenceConfig p)
    {
        var body = new JsonObject { ["persistenceType"] = PersistenceTypeNames.ToName(p.Type) };
        if (p.CookieName is not null) body["cookieName"] = p.CookieName;
        if (p.PersistenceTimeoutSeconds is not null) body["persistenceTimeout"] = p.PersistenceTimeoutSeconds;
        if (p.DisableFallback is not null) body["disableFallback"] = p.DisableFallback;
        if (p.CookiePath is not null) body["cookiePath"] = p.CookiePath;
        if (p.CookieDomain is not null) body["cookieDomain"] = p.CookieDomain;
        if (p.CookieSecure is not null) body["cookieSecure"] = p.CookieSecure;
        if (p.CookieHttpOnly is not null) body["cookieHttpOnly"] = p.CookieHttpOnly;
        if (p.CookieSameSite is not null) body["cookieSameSite"] = p.CookieSameSite;
        if (p.HeaderName is not null) body["headerName"] = p.HeaderName;
        if (p.HashBalanceFactor is not null) body["hashBalanceFactor"] = p.HashBalanceFactor;
        return body;
    }

    /// <summary>The health monitor object: <c>{"type","delay","timeout","attemptsBeforeDeactivation"}</c>, then for
    /// HTTP/HTTPS <c>"path"</c> and only the optional fields that were set (<c>statusRegex</c>, <c>bodyRegex</c>,
    /// <c>hostHeader</c>). Seconds for delay and timeout.</summary>
    public static JsonObject HealthMonitor(HealthMonitorConfig m)
    {
        var body = new JsonObject
        {
            ["type"] = HealthMonitorTypeNames.ToName(m.Type),
            ["delay"] = m.DelaySeconds,
            ["timeout"] = m.TimeoutSeconds,
            ["attemptsBeforeDeactivation"] = m.AttemptsBeforeDeactivation,
        };
        if (m.Path is not null) body["path"] = m.Path;
        if (m.StatusRegex is not null) body["statusRegex"] = m.StatusRegex;
        if (m.BodyRegex is not null) body["bodyRegex"] = m.BodyRegex;
        if (m.HostHeader is not null) body["hostHeader"] = m.HostHeader;
        return body;
    }

    /// <summary>The load balancer's virtual IPs as Rackspace shows them: <c>[{"id","address","type","ipVersion"}]</c>
    /// (also the body of <c>GET /loadbalancers/{id}/virtualips</c>, under <c>virtualIps</c>).</summary>
    public static JsonArray VirtualIps(LoadBalancerConfig c) => new([.. c.VirtualIps.Select(v => (JsonNode)VirtualIp(v))]);

    /// <summary>One virtual IP: <c>{"id","address","type","ipVersion"}</c> (also the body of <c>POST /virtualips</c>'s
    /// 202, unwrapped as in the Rackspace reference).</summary>
    public static JsonObject VirtualIp(VirtualIpConfig v) => new()
    {
        ["id"] = v.Id,
        ["address"] = v.Address,
        ["type"] = ApiNames.VirtualIpType(v.Type),
        ["ipVersion"] = v.IpVersion,
    };

    /// <summary><c>{"time":"2026-01-01T00:00:00Z"}</c> (UTC, whole seconds).</summary>
    public static JsonObject Time(DateTimeOffset time) => new()
    {
        ["time"] = time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
    };
}

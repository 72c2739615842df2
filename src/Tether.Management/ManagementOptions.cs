namespace Tether.Management;

/// <summary>
/// Settings of the management API and its store (configuration section <c>Tether:Management</c>). Passed to
/// <see cref="ManagementServiceCollectionExtensions.AddTetherManagement"/>.
/// </summary>
public sealed class ManagementOptions
{
    /// <summary>The data directory: holds <c>tether.db</c> (SQLite, WAL) and, on first start without any token,
    /// <c>admin-token</c> (mode 0600). Created (mode 0700 on Unix) when missing. Required.</summary>
    public string DataDirectory { get; set; } = "";

    /// <summary>The URL the management API listens on (default <c>http://127.0.0.1:8080</c>). Read by the executable,
    /// which builds the web host; the API itself does not bind it.</summary>
    public string ListenUrl { get; set; } = "http://127.0.0.1:8080";

    /// <summary>The IPv4 address a <c>{"type":"PUBLIC"}</c> virtual IP binds (default <c>0.0.0.0</c>, every
    /// interface).</summary>
    public string PublicAddress { get; set; } = "0.0.0.0";

    /// <summary>The IPv6 address an IPV6 PUBLIC virtual IP binds (<c>{"type":"PUBLIC","ipVersion":"IPV6"}</c> at creation,
    /// or <c>POST /loadbalancers/{id}/virtualips</c>); default <c>::</c>, every interface. Its listeners are IPv6-only, so
    /// they coexist with the IPv4 virtual IP's on the same port. Setting <c>PublicAddressV6</c>.</summary>
    public string PublicAddressV6 { get; set; } = "::";

    /// <summary>The IPv4 address a <c>{"type":"SERVICENET"}</c> virtual IP binds (default <c>127.0.0.1</c>).</summary>
    public string PrivateAddress { get; set; } = "127.0.0.1";

    /// <summary>API tokens from configuration, in addition to those in the store. When this list is empty and the
    /// store holds no token, the first start creates an admin token for account 1 (docs/api.md).</summary>
    public IList<ManagementToken> Tokens { get; } = new List<ManagementToken>();

    /// <summary>Per-account rate limits of the API (Rackspace's "Rate limits"; docs/api.md "Rate limits"):
    /// <c>off</c> (the default, or empty: no limit, as suits a self-hosted API), <c>rackspace</c> (Rackspace's
    /// default limits: GET and PUT 10 per second and 600 per minute, POST and DELETE 5 per second and 300 per minute)
    /// or rules <c>VERB N/UNIT</c> separated by commas, such as <c>GET 20/second, POST 100/minute</c> (VERB one of
    /// GET, POST, PUT, DELETE; N from 1 to 1,000,000; UNIT second, minute, hour or day). A verb without a rule is not
    /// limited. Over a limit: 413 with <c>Retry-After</c> (seconds). Setting <c>Management:RateLimits</c>.</summary>
    public string? RateLimits { get; set; }

    /// <summary>The domain names <c>GET /loadbalancers/alloweddomains</c> lists (Rackspace's "List allowed domains"),
    /// each a DNS name (letters, digits, hyphens; labels of 1 to 63 characters; at most 253 characters); empty by
    /// default. Node addresses stay IP addresses (docs/api.md "Allowed domains"). Setting
    /// <c>Management:AllowedDomains</c>.</summary>
    public IList<string> AllowedDomains { get; } = new List<string>();

    /// <summary>The <c>sourceAddresses</c> that <c>GET /loadbalancers/{id}</c> shows (Rackspace: "the addresses the load
    /// balancer uses toward its nodes", for the nodes' firewalls). Settings <c>Management:SourceAddresses:Ipv4Public</c>,
    /// <c>...:Ipv4Servicenet</c> (IPv4 literals) and <c>...:Ipv6Public</c> (an IPv6 literal). Tether does not bind its
    /// node connections to an address: the system's routing picks their source. So an unset one defaults to the
    /// matching virtual IP address (<see cref="PublicAddress"/>, <see cref="PrivateAddress"/>,
    /// <see cref="PublicAddressV6"/>) when that is a specific address, the one a node sees on a one-interface host;
    /// it is left out of the answer when that is the wildcard (0.0.0.0, ::) and nothing is set (docs/api.md).</summary>
    public SourceAddressOptions SourceAddresses { get; } = new();

    /// <summary>Whether the persistence API masks client addresses (IPv4: the last octet; IPv6: all but the /64
    /// prefix) when it lists SOURCE_IP sessions (default true).</summary>
    public bool MaskClientAddresses { get; set; } = true;

    /// <summary>Whether <c>GET /metrics</c> needs a valid <c>X-Auth-Token</c> (any account's; the metrics cover every
    /// load balancer), as the API does (default false: Prometheus scrapes without credentials, as usual, and the
    /// management port binds 127.0.0.1 by default). Setting <c>Management:MetricsRequireToken</c>.</summary>
    public bool MetricsRequireToken { get; set; }

    /// <summary>Where <c>GET /metrics</c> is served: empty (the default) for the management URL, or its own
    /// <c>http://ADDRESS:PORT</c> (port 1 to 65535, not the management port), which then answers <c>/metrics</c> only
    /// while the management port stops answering it. Setting <c>Management:MetricsUrl</c>.</summary>
    public string? MetricsUrl { get; set; }

    /// <summary>How often the usage recorder polls the load balancers' usage counters, in seconds (1 to 3600; default
    /// 60). A restart loses at most this much traffic from the usage reports. Setting
    /// <c>Management:UsagePollSeconds</c>.</summary>
    public int UsagePollSeconds { get; set; } = 60;

    /// <summary>How long usage records are kept, in days (1 to 3650; default 90, Rackspace's "historical usage data is
    /// available for up to 90 days"). Setting <c>Management:UsageRetentionDays</c>.</summary>
    public int UsageRetentionDays { get; set; } = 90;

    /// <summary>False: the usage recorder polls only when <see cref="Usage.UsageRecorder.Poll"/> is called (tests that
    /// move a fake clock); not a setting.</summary>
    internal bool UsageBackgroundPolling { get; set; } = true;
}

/// <summary>An API token (header <c>X-Auth-Token</c>) and the one account it may act for (docs/api.md).</summary>
public sealed class ManagementToken
{
    /// <summary>The token value; compared exactly (ordinal).</summary>
    public string Token { get; set; } = "";

    /// <summary>The account (the <c>{account}</c> of <c>/v1.0/{account}</c>) the token belongs to; positive.</summary>
    public int AccountId { get; set; }

    /// <summary>What the token may do: <c>observer</c> (GET only), <c>creator</c> (GET, POST, PUT) or <c>admin</c>
    /// (every method; the default when empty), as Rackspace's roles (<see cref="Auth.TokenRole"/>). Another value is
    /// refused at start.</summary>
    public string? Role { get; set; }
}

/// <summary>The addresses nodes see Tether's connections come from, as the operator states them (see
/// <see cref="ManagementOptions.SourceAddresses"/>); each optional.</summary>
public sealed class SourceAddressOptions
{
    /// <summary>IPv4 literal; <c>ipv4Public</c>. Setting <c>Management:SourceAddresses:Ipv4Public</c>.</summary>
    public string? Ipv4Public { get; set; }

    /// <summary>IPv4 literal; <c>ipv4Servicenet</c>. Setting <c>Management:SourceAddresses:Ipv4Servicenet</c>.</summary>
    public string? Ipv4Servicenet { get; set; }

    /// <summary>IPv6 literal; <c>ipv6Public</c>. Setting <c>Management:SourceAddresses:Ipv6Public</c>.</summary>
    public string? Ipv6Public { get; set; }
}

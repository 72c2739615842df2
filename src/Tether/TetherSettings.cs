namespace Tether;

/// <summary>
/// Settings of <c>tether serve</c>. Sources, later ones winning: the optional JSON file (<c>--config</c>, default
/// <c>tether.json</c> in the working directory when present), environment variables prefixed <c>TETHER_</c>
/// (for example <c>TETHER_DATADIRECTORY</c>, <c>TETHER_MANAGEMENT__URL</c>, <c>TETHER_PROXY__PASSIVEFAILUREHOLDSECONDS</c>),
/// then command-line flags.
/// </summary>
public sealed class TetherSettings
{
    /// <summary>Where the SQLite database, the admin token file and the cookie keys live (default <c>./data</c>).</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>The management API's URL (default <c>http://127.0.0.1:8080</c>; port 0 picks a free port).</summary>
    public string ManagementUrl { get; set; } = "http://127.0.0.1:8080";

    /// <summary>The address PUBLIC virtual IPs bind (default <c>0.0.0.0</c>).</summary>
    public string PublicAddress { get; set; } = "0.0.0.0";

    /// <summary>The IPv6 address IPV6 PUBLIC virtual IPs bind (default <c>::</c>, every interface; IPv6-only listeners,
    /// so they coexist with the IPv4 ones on the same port). Environment variable <c>TETHER_PUBLICADDRESSV6</c>, flag
    /// <c>--public-address-v6</c>.</summary>
    public string PublicAddressV6 { get; set; } = "::";

    /// <summary>The address SERVICENET virtual IPs bind (default <c>127.0.0.1</c>).</summary>
    public string PrivateAddress { get; set; } = "127.0.0.1";

    /// <summary>Cluster mode (issue 14, docs/cluster.md): a StackExchange.Redis configuration string (for example
    /// <c>10.0.0.5:6379,password=...</c>) of the store shared by every instance; null or empty: a single instance on
    /// SQLite. Flag <c>--redis</c>, environment variable <c>TETHER_REDIS</c>.</summary>
    public string? Redis { get; set; }

    /// <summary>This instance's name in a cluster (labels its metrics and logs); default the host name. Flag
    /// <c>--instance</c>.</summary>
    public string? Instance { get; set; }

    /// <summary>The configuration the settings came from (JSON file, <c>TETHER_</c> variables, flags); the sections
    /// <c>Proxy</c> (see <c>ProxyOptions</c>) and <c>Management</c> (<c>Tokens</c>, <c>MaskClientAddresses</c>, <c>RateLimits</c>, <c>AllowedDomains</c>) are read
    /// from it. Null: the host's default configuration.</summary>
    public Microsoft.Extensions.Configuration.IConfiguration? Configuration { get; set; }
}

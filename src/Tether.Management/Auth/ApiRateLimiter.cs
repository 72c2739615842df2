using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.RateLimiting;

namespace Tether.Management.Auth;

/// <summary>One rate limit: at most <see cref="Value"/> calls of <see cref="Verb"/> per <see cref="Unit"/> and
/// account.</summary>
/// <param name="Verb">GET, POST, PUT or DELETE.</param>
/// <param name="Value">How many calls, 1 to 1,000,000.</param>
/// <param name="Unit">SECOND, MINUTE, HOUR or DAY (Rackspace's and Repose's names).</param>
public sealed record RateLimitRule(string Verb, int Value, string Unit)
{
    /// <summary>The length of <see cref="Unit"/>.</summary>
    public TimeSpan Window => Unit switch
    {
        "SECOND" => TimeSpan.FromSeconds(1),
        "MINUTE" => TimeSpan.FromMinutes(1),
        "HOUR" => TimeSpan.FromHours(1),
        _ => TimeSpan.FromDays(1),
    };

    /// <summary>As written in the setting: <c>GET 10/second</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Verb} {Value}/{Unit.ToLowerInvariant()}");
}

/// <summary>
/// Reads <c>Management:RateLimits</c> (<see cref="ManagementOptions.RateLimits"/>): <c>off</c> or empty (no limit),
/// <c>rackspace</c> (the default rate limits of the Rackspace Cloud Load Balancers v1.0 reference, "Limits": GET 10
/// per second and 600 per minute, POST 5 per second and 300 per minute, PUT 10 per second and 600 per minute, DELETE
/// 5 per second and 300 per minute), or rules <c>VERB N/UNIT</c> separated by commas.
/// </summary>
public static class RateLimitRules
{
    /// <summary>The <c>rackspace</c> preset, in the reference's order.</summary>
    public static readonly IReadOnlyList<RateLimitRule> Rackspace =
    [
        new("GET", 10, "SECOND"), new("GET", 600, "MINUTE"),
        new("POST", 5, "SECOND"), new("POST", 300, "MINUTE"),
        new("PUT", 10, "SECOND"), new("PUT", 600, "MINUTE"),
        new("DELETE", 5, "SECOND"), new("DELETE", 300, "MINUTE"),
    ];

    private static readonly string[] Verbs = ["GET", "POST", "PUT", "DELETE"];

    private static readonly string[] Units = ["SECOND", "MINUTE", "HOUR", "DAY"];

    /// <summary>Reads the setting's value.</summary>
    /// <param name="value">The value; null, empty and <c>off</c> (any case) mean no limit.</param>
    /// <param name="rules">The rules, in the order given; empty for no limit.</param>
    /// <returns>Null when the value is valid; else the reason, naming the part that is wrong and what is allowed.</returns>
    public static string? Parse(string? value, out IReadOnlyList<RateLimitRule> rules)
    {
        rules = [];
        var text = value?.Trim() ?? "";
        if (text.Length == 0 || text.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (text.Equals("rackspace", StringComparison.OrdinalIgnoreCase))
        {
            rules = Rackspace;
            return null;
        }

        var parsed = new List<RateLimitRule>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var words = part.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var slash = words.Length == 2 ? words[1].IndexOf('/', StringComparison.Ordinal) : -1;
            if (slash < 0)
            {
                return $"\"{part}\" is not a rule; give off, rackspace, or rules VERB N/UNIT separated by commas, such as \"GET 20/second, POST 100/minute\"";
            }

            var verb = words[0].ToUpperInvariant();
            var unit = words[1][(slash + 1)..].ToUpperInvariant();
            if (Array.IndexOf(Verbs, verb) < 0)
            {
                return $"\"{part}\": the verb must be GET, POST, PUT or DELETE";
            }

            if (!int.TryParse(words[1].AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1 || count > 1_000_000)
            {
                return $"\"{part}\": the number of calls must be a whole number from 1 to 1000000";
            }

            if (Array.IndexOf(Units, unit) < 0)
            {
                return $"\"{part}\": the unit must be second, minute, hour or day";
            }

            var rule = new RateLimitRule(verb, count, unit);
            if (parsed.Exists(r => r.Verb == rule.Verb && r.Unit == rule.Unit))
            {
                return $"\"{part}\": {verb} already has a rule per {unit.ToLowerInvariant()}";
            }

            parsed.Add(rule);
        }

        rules = parsed;
        return null;
    }
}

/// <summary>
/// The per-account rate limits of the API (<see cref="ManagementOptions.RateLimits"/>), applied by
/// <see cref="ApiFilter"/> after authentication and the role check. Each rule <c>VERB N/UNIT</c> is a token bucket
/// per account (System.Threading.RateLimiting's partitioned <see cref="TokenBucketRateLimiter"/>): N calls at once,
/// refilled continuously at N per UNIT, so that after a burst one call is allowed again every UNIT/N. A call takes a
/// token from every rule of its verb, in order; the first empty bucket refuses it (413, Rackspace's overLimit fault,
/// <c>Retry-After</c> in seconds). Verbs without a rule, and every call when the setting is off, are not limited.
/// </summary>
internal sealed class ApiRateLimiter : IDisposable
{
    /// <summary>The <c>uri</c> and <c>regex</c> of <c>GET /limits</c>: every rule covers every path of the API.</summary>
    public const string Uri = "/v1.0/*";

    public const string Regex = "^/v1.0/.*";

    private readonly (RateLimitRule Rule, PartitionedRateLimiter<int> Limiter)[] _all;
    private readonly Dictionary<string, (RateLimitRule Rule, PartitionedRateLimiter<int> Limiter)[]> _byVerb;
    private readonly TimeProvider _time;

    /// <exception cref="ArgumentException">The setting is not valid (the message says why).</exception>
    public ApiRateLimiter(string? setting, TimeProvider time)
    {
        var error = RateLimitRules.Parse(setting, out var rules);
        if (error is not null)
        {
            throw new ArgumentException($"ManagementOptions.RateLimits: {error}.", nameof(setting));
        }

        _time = time;
        _all = [.. rules.Select(r => (r, CreateLimiter(r)))];
        _byVerb = new Dictionary<string, (RateLimitRule, PartitionedRateLimiter<int>)[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var group in _all.GroupBy(r => r.Rule.Verb))
        {
            _byVerb[group.Key] = [.. group];
        }
    }

    /// <summary>The rules, in the order configured; empty when rate limiting is off.</summary>
    public IEnumerable<RateLimitRule> Rules => _all.Select(r => r.Rule);

    /// <summary>Takes one call of <paramref name="method"/> for <paramref name="account"/>; null when allowed, else
    /// the rule that refuses it and the time after which one call of it is allowed again (at least 1 second).</summary>
    public (RateLimitRule Rule, TimeSpan RetryAfter)? TryAcquire(int account, string method)
    {
        if (!_byVerb.TryGetValue(method, out var limiters))
        {
            return null;
        }

        foreach (var (rule, limiter) in limiters)
        {
            using var lease = limiter.AttemptAcquire(account);
            if (!lease.IsAcquired)
            {
                var retry = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : rule.Window / rule.Value;
                return (rule, retry < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : retry);
            }
        }

        return null;
    }

    /// <summary>The body of <c>GET /limits</c>'s <c>rate</c>: one entry for <see cref="Uri"/> with every rule's
    /// <c>{"verb","value","remaining","unit","next-available"}</c> for <paramref name="account"/> (Rackspace's
    /// "Retrieve account limits"); an empty array when rate limiting is off.</summary>
    public JsonArray RateBody(int account)
    {
        if (_all.Length == 0)
        {
            return [];
        }

        var now = _time.GetUtcNow();
        var limits = new JsonArray();
        foreach (var (rule, limiter) in _all)
        {
            var remaining = (int)Math.Clamp(limiter.GetStatistics(account)?.CurrentAvailablePermits ?? rule.Value, 0, rule.Value);
            // Whole seconds, rounded up while the bucket is empty (never a time at which the call would still be refused).
            var next = remaining > 0 ? now : CeilingToSecond(now + (rule.Window / rule.Value));
            limits.Add(new JsonObject
            {
                ["verb"] = rule.Verb,
                ["value"] = rule.Value,
                ["remaining"] = remaining,
                ["unit"] = rule.Unit,
                ["next-available"] = Timestamp(next),
            });
        }

        return [new JsonObject { ["uri"] = Uri, ["regex"] = Regex, ["limit"] = limits }];
    }

    /// <summary>Rackspace's overLimit fault (413; the Cloud Load Balancers reference, "Faults", as its API gateway
    /// Repose writes it in JSON): <c>{"overLimit":{"code":413,"message","details","retryAfter"}}</c>,
    /// <c>retryAfter</c> the UTC time after which the call is allowed again.</summary>
    public JsonObject OverLimitBody(RateLimitRule rule, TimeSpan retryAfter, int account)
    {
        var seconds = RetryAfterSeconds(retryAfter);
        return new JsonObject
        {
            ["overLimit"] = new JsonObject
            {
                ["code"] = 413,
                ["message"] = "OverLimit Retry...",
                ["details"] = string.Create(CultureInfo.InvariantCulture,
                    $"Only {rule.Value} {rule.Verb} request(s) can be made per {rule.Unit.ToLowerInvariant()} for account {account}; retry after {seconds} second(s)."),
                ["retryAfter"] = Timestamp(_time.GetUtcNow().AddSeconds(seconds)),
            },
        };
    }

    /// <summary>The <c>Retry-After</c> header's whole seconds: <paramref name="retryAfter"/> rounded up, at least 1.</summary>
    public static int RetryAfterSeconds(TimeSpan retryAfter) => Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));

    public void Dispose()
    {
        foreach (var (_, limiter) in _all)
        {
            limiter.Dispose();
        }
    }

    private static DateTimeOffset CeilingToSecond(DateTimeOffset time) =>
        time.AddTicks((TimeSpan.TicksPerSecond - (time.UtcTicks % TimeSpan.TicksPerSecond)) % TimeSpan.TicksPerSecond);

    private static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static PartitionedRateLimiter<int> CreateLimiter(RateLimitRule rule)
    {
        // One token every Window/Value: the partitioned limiter refills every bucket from elapsed time (its own timer,
        // every 100 ms), so RetryAfter is the time until the next token.
        var options = new TokenBucketRateLimiterOptions
        {
            TokenLimit = rule.Value,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = rule.Window / rule.Value,
            QueueLimit = 0,
            AutoReplenishment = true,
        };
        return PartitionedRateLimiter.Create<int, int>(account => RateLimitPartition.GetTokenBucketLimiter(account, _ => options));
    }
}

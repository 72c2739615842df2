using System.Text.Json;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Management.Api;

namespace Tether.Management.Validation;

/// <summary>
/// Validates the access list, connection throttle, error page and connection logging resources (Rackspace Cloud Load
/// Balancers API v1.0; issue 6). Every error is collected; each message names the field and the rule.
/// </summary>
internal static class AccessControlValidator
{
    /// <summary>Items per access list (Rackspace ACCESS_LIST_LIMIT); more is 413.</summary>
    public const int AccessListLimit = 100;

    /// <summary>maxConnections range (Rackspace): 0..100000, 0 = no limit.</summary>
    public const int MaxConnectionsLimit = 100000;

    /// <summary>The new items of a POST <c>/accesslist</c> body (<c>{"accessList":[{"address","type"}]}</c> or the bare
    /// array): each needs <c>address</c> (an IPv4/IPv6 address or CIDR network, host bits zero) and <c>type</c>
    /// (ALLOW or DENY); at least one item; no address twice, in the body or already in <paramref name="existing"/>
    /// (Rackspace: "cannot be duplicated"). Ids are not set here.</summary>
    public static List<AccessListItem>? ValidateNewItems(JsonElement body, IReadOnlyList<AccessListItem> existing, List<string> errors)
    {
        var before = errors.Count;
        JsonElement array;
        if (body.ValueKind == JsonValueKind.Array)
        {
            array = body;
        }
        else if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("accessList", out var inner) && inner.ValueKind == JsonValueKind.Array)
        {
            array = inner;
            var wrapper = new ReadIssues();
            new FieldReader(body, "", wrapper).CheckFields(FieldSet.AccessListBody);
            errors.AddRange(wrapper.Messages);
        }
        else
        {
            errors.Add("accessList: give the network items as {\"accessList\":[{\"address\":\"10.0.0.0/8\",\"type\":\"DENY\"}]}");
            return null;
        }

        if (array.GetArrayLength() == 0)
        {
            errors.Add("accessList: give at least one network item");
            return null;
        }

        var seen = new HashSet<(UInt128, UInt128)>();
        foreach (var item in existing)
        {
            if (NetworkAddress.TryParse(item.Address, out var n, out _))
            {
                seen.Add(Key(n));
            }
        }

        var items = new List<AccessListItem>();
        var index = 0;
        foreach (var element in array.EnumerateArray())
        {
            var path = $"accessList[{index++}]";
            if (element.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"{path}: must be an object {{\"address\",\"type\"}}");
                continue;
            }

            var issues = new ReadIssues();
            var reader = new FieldReader(element, path, issues);
            reader.CheckFields(FieldSet.AccessListItem);
            var address = reader.String("address");
            var typeName = reader.String("type");
            errors.AddRange(issues.Messages);
            NetworkAddress network = default;
            if (address is null)
            {
                if (!issues.IsInvalid(path + ".address"))
                {
                    errors.Add($"{path}.address: required (an IPv4 or IPv6 address or CIDR network)");
                }
            }
            else if (!NetworkAddress.TryParse(address.Trim(), out network, out var problem))
            {
                errors.Add($"{path}.address: {problem}");
                address = null;
            }
            else if (!seen.Add(Key(network)))
            {
                errors.Add($"{path}.address: {network.Canonical} is already in the access list (an address or network may appear once)");
                address = null;
            }

            AccessListType type = default;
            if (typeName is null)
            {
                if (!issues.IsInvalid(path + ".type"))
                {
                    errors.Add($"{path}.type: required (ALLOW or DENY)");
                }
            }
            else if (!ApiNames.TryParseAccessListType(typeName, out type))
            {
                errors.Add($"{path}.type: must be ALLOW or DENY (got '{typeName}')");
                typeName = null;
            }

            if (address is not null && typeName is not null)
            {
                items.Add(new AccessListItem(0, network.Canonical, type));
            }
        }

        return errors.Count == before ? items : null;
    }

    /// <summary>A PUT <c>/connectionthrottle</c> body merged over <paramref name="existing"/>: at least one of
    /// <c>maxConnections</c> (0..100000; 0 = no limit), <c>minConnections</c> (0..1000), <c>maxConnectionRate</c>
    /// (0..100000), <c>rateInterval</c> (1..3600 s); absent fields keep their value.</summary>
    public static ConnectionThrottleConfig? ValidateThrottle(FieldReader reader, ConnectionThrottleConfig? existing, List<string> errors)
    {
        var before = errors.Count;
        reader.CheckFields(FieldSet.ConnectionThrottle);
        var max = reader.Int("maxConnections");
        var min = reader.Int("minConnections");
        var rate = reader.Int("maxConnectionRate");
        var interval = reader.Int("rateInterval");
        errors.AddRange(reader.Issues.Messages);
        if (reader.Issues.Messages.Count == 0 && max is null && min is null && rate is null && interval is null)
        {
            errors.Add("connectionThrottle: give at least one of maxConnections, minConnections, maxConnectionRate, rateInterval");
        }

        Range(max, "maxConnections", 0, MaxConnectionsLimit, "0 = no limit", errors);
        Range(min, "minConnections", 0, 1000, "legacy, not enforced", errors);
        Range(rate, "maxConnectionRate", 0, 100000, "legacy, not enforced", errors);
        Range(interval, "rateInterval", 1, 3600, "seconds; legacy, not enforced", errors);
        if (errors.Count != before)
        {
            return null;
        }

        var current = existing ?? new ConnectionThrottleConfig();
        return current with
        {
            MaxConnections = max ?? current.MaxConnections,
            MinConnections = min ?? current.MinConnections,
            MaxConnectionRate = rate ?? current.MaxConnectionRate,
            RateInterval = interval ?? current.RateInterval,
        };
    }

    /// <summary>A PUT <c>/errorpage</c> body: <c>content</c>, a non-blank string of at most 65536 characters.</summary>
    public static string? ValidateErrorPage(FieldReader reader, List<string> errors)
    {
        reader.CheckFields(FieldSet.ErrorPage);
        var content = reader.String("content");
        errors.AddRange(reader.Issues.Messages);
        if (reader.Issues.Messages.Count > 0)
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(content))
        {
            errors.Add("errorpage.content: required (the HTML of the error page)");
            return null;
        }

        if (content.Length > ErrorPages.MaxLength)
        {
            errors.Add($"errorpage.content: at most {ErrorPages.MaxLength} characters (got {content.Length})");
            return null;
        }

        return content;
    }

    private static void Range(int? value, string field, int min, int max, string note, List<string> errors)
    {
        if (value is { } v && (v < min || v > max))
        {
            errors.Add($"{field}: must be from {min} to {max} ({note}; got {v})");
        }
    }

    private static (UInt128, UInt128) Key(NetworkAddress n) => (n.Network, n.Mask);
}

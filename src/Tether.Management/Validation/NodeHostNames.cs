namespace Tether.Management.Validation;

/// <summary>
/// The rule for a node <c>address</c> that is a host name (Rackspace v1.0: "the address may be a host name within one
/// of the allowed domains", <c>GET /loadbalancers/alloweddomains</c>): an RFC 1123 host name (labels of 1 to 63
/// letters, digits and hyphens, not starting or ending with a hyphen, 253 characters at most, one trailing dot
/// ignored) that equals an allowed domain or ends with <c>.</c> + an allowed domain (a suffix on a label boundary,
/// case-insensitive). The data plane resolves it (docs/api.md "Node addresses by host name").
/// </summary>
internal static class NodeHostNames
{
    /// <summary>True when <paramref name="text"/> is meant as an IP address: it holds a colon (IPv6) or is made of
    /// digits and dots only (IPv4; an RFC 1123 top-level label is never all digits). Such text follows the IP rules.</summary>
    public static bool LooksLikeIpAddress(string text) =>
        text.Contains(':', StringComparison.Ordinal) || text.All(c => char.IsAsciiDigit(c) || c == '.');

    /// <summary>Returns <paramref name="text"/> as stored (lower case, no trailing dot) when it is a host name within
    /// one of <paramref name="allowedDomains"/>; else null and the reason in <paramref name="problem"/>.</summary>
    public static string? Check(string text, IReadOnlyCollection<string> allowedDomains, out string? problem)
    {
        if (AllowedDomainNames.Check(text) is not null || text.Trim() != text)
        {
            problem = "must be an IPv4 (dotted quad) or IPv6 address literal, or a host name (labels of 1 to 63 letters, digits or hyphens, not first or last, 253 characters at most)";
            return null;
        }

        var name = text.TrimEnd('.').ToLowerInvariant();
        if (allowedDomains.Count == 0)
        {
            problem = "must be an IPv4 (dotted quad) or IPv6 address literal; a host name is accepted only within an allowed domain, and none is configured (GET /loadbalancers/alloweddomains)";
            return null;
        }

        foreach (var domain in allowedDomains)
        {
            var d = domain.Trim().TrimEnd('.').ToLowerInvariant();
            if (d.Length > 0 && (name == d || name.EndsWith("." + d, StringComparison.Ordinal)))
            {
                problem = null;
                return name;
            }
        }

        problem = $"host name is not within an allowed domain ({string.Join(", ", allowedDomains.Select(d => d.Trim().TrimEnd('.')))})";
        return null;
    }
}

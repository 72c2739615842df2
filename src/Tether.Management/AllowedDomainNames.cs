namespace Tether.Management;

/// <summary>The rule for <see cref="ManagementOptions.AllowedDomains"/>: a DNS name (RFC 1123 host name syntax).</summary>
public static class AllowedDomainNames
{
    /// <summary>Null when <paramref name="name"/> is a DNS name: labels of 1 to 63 letters, digits and hyphens (not
    /// at either end of a label) separated by dots, 253 characters at most, one trailing dot allowed
    /// (<c>rackspace.com</c>, <c>org</c>); else the reason.</summary>
    public static string? Check(string? name)
    {
        var value = name?.Trim() ?? "";
        if (value.EndsWith('.'))
        {
            value = value[..^1];
        }

        if (value.Length is 0 or > 253)
        {
            return $"\"{name}\" is not a domain name; give a DNS name of 1 to 253 characters, such as example.com";
        }

        foreach (var label in value.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-'
                || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return $"\"{name}\" is not a domain name; each dot-separated label needs 1 to 63 letters, digits or hyphens (not first or last), such as example.com";
            }
        }

        return null;
    }
}

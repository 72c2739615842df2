namespace Tether.Management.Auth;

/// <summary>
/// What a token may do, as Rackspace Cloud Load Balancers' role-based access control (the v1.0 reference, "Role-based
/// access control (RBAC)": <c>lbaas:observer</c> Read, <c>lbaas:creator</c> Create, Read and Update,
/// <c>lbaas:admin</c> Create, Read, Update and Delete). Tether maps them onto HTTP methods: read is GET, create is
/// POST, update is PUT, delete is DELETE. A denied call answers 403 with Repose's wording (Rackspace's API gateway:
/// "You are forbidden to perform the operation") and changes nothing (docs/api.md "Roles").
/// </summary>
public enum TokenRole
{
    /// <summary><c>observer</c>: GET only (read-only).</summary>
    Observer = 0,

    /// <summary><c>creator</c>: GET, POST and PUT (non-destructive: no DELETE).</summary>
    Creator = 1,

    /// <summary><c>admin</c>: every method. Tokens stored before roles existed, the first-start admin token and
    /// configured tokens without a <c>Role</c> are admins.</summary>
    Admin = 2,
}

/// <summary>Names and permissions of <see cref="TokenRole"/>.</summary>
public static class TokenRoles
{
    /// <summary>The role names, lower case, from the least to the most permissive: <c>observer</c>,
    /// <c>creator</c>, <c>admin</c>.</summary>
    public static readonly IReadOnlyList<string> Names = ["observer", "creator", "admin"];

    /// <summary>The role's name as stored and shown (<c>observer</c>, <c>creator</c>, <c>admin</c>).</summary>
    public static string Name(this TokenRole role) => role switch
    {
        TokenRole.Observer => "observer",
        TokenRole.Creator => "creator",
        _ => "admin",
    };

    /// <summary>Reads a role name, case-insensitively; false for anything else (null and empty included).</summary>
    public static bool TryParse(string? name, out TokenRole role)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "observer":
                role = TokenRole.Observer;
                return true;
            case "creator":
                role = TokenRole.Creator;
                return true;
            case "admin":
                role = TokenRole.Admin;
                return true;
            default:
                role = TokenRole.Observer;
                return false;
        }
    }

    /// <summary>Whether <paramref name="role"/> may call the API with <paramref name="method"/>: observer GET (and
    /// HEAD); creator also POST and PUT; admin every method.</summary>
    public static bool Allows(this TokenRole role, string method) => role switch
    {
        TokenRole.Admin => true,
        TokenRole.Creator => HttpMethodIs(method, "GET") || HttpMethodIs(method, "HEAD") || HttpMethodIs(method, "POST") || HttpMethodIs(method, "PUT"),
        _ => HttpMethodIs(method, "GET") || HttpMethodIs(method, "HEAD"),
    };

    /// <summary>The least permissive role that allows <paramref name="method"/>.</summary>
    public static TokenRole Needed(string method) =>
        TokenRole.Observer.Allows(method) ? TokenRole.Observer : TokenRole.Creator.Allows(method) ? TokenRole.Creator : TokenRole.Admin;

    private static bool HttpMethodIs(string method, string expected) => string.Equals(method, expected, StringComparison.OrdinalIgnoreCase);
}

/// <summary>What an authenticated token grants: its account and its role.</summary>
/// <param name="AccountId">The account (the <c>{account}</c> of <c>/v1.0/{account}</c>).</param>
/// <param name="Role">What it may do there.</param>
public readonly record struct TokenGrant(int AccountId, TokenRole Role);

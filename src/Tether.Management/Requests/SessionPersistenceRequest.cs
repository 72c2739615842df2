using Tether.Management.Api;

namespace Tether.Management.Requests;

/// <summary>A session persistence object as a request body gives it (PUT <c>/sessionpersistence</c> or inside a
/// create request), before validation. Null means absent.</summary>
internal sealed class SessionPersistenceRequest
{
    /// <summary>The path of the object in the body for messages (<c>sessionPersistence</c>), or empty.</summary>
    public required string Path { get; init; }

    public required ReadIssues Issues { get; init; }

    public string? PersistenceType { get; init; }
    public string? CookieName { get; init; }
    public int? PersistenceTimeout { get; init; }
    public bool? DisableFallback { get; init; }
    public string? CookiePath { get; init; }
    public string? CookieDomain { get; init; }
    public bool? CookieSecure { get; init; }
    public bool? CookieHttpOnly { get; init; }
    public string? CookieSameSite { get; init; }
    public string? HeaderName { get; init; }
    public int? HashBalanceFactor { get; init; }

    /// <summary>The field's path for messages.</summary>
    public string PathOf(string field) => Path.Length == 0 ? field : Path + "." + field;

    /// <summary>Reads a PUT <c>/sessionpersistence</c> body, reporting fields outside <see cref="FieldSet.SessionPersistence"/>.</summary>
    public static SessionPersistenceRequest ReadChecked(FieldReader reader)
    {
        reader.CheckFields(FieldSet.SessionPersistence);
        return Read(reader);
    }

    public static SessionPersistenceRequest Read(FieldReader reader) => new()
    {
        Path = reader.Prefix,
        Issues = reader.Issues,
        PersistenceType = reader.String("persistenceType"),
        CookieName = reader.String("cookieName"),
        PersistenceTimeout = reader.Int("persistenceTimeout"),
        DisableFallback = reader.Bool("disableFallback"),
        CookiePath = reader.String("cookiePath"),
        CookieDomain = reader.String("cookieDomain"),
        CookieSecure = reader.Bool("cookieSecure"),
        CookieHttpOnly = reader.Bool("cookieHttpOnly"),
        CookieSameSite = reader.String("cookieSameSite"),
        HeaderName = reader.String("headerName"),
        HashBalanceFactor = reader.Int("hashBalanceFactor"),
    };
}

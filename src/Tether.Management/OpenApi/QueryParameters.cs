namespace Tether.Management.OpenApi;

/// <summary>The query parameters the API reads by hand, described once (<c>Endpoints/ListQuery.cs</c>,
/// <c>Endpoints/UsageEndpoints.cs</c>, <c>Endpoints/PersistenceInsightEndpoints.cs</c>; docs/api.md).</summary>
internal static class QueryParameters
{
    /// <summary>A query parameter: its JSON schema type (<c>integer</c>, <c>string</c>, <c>number</c>), whether it may
    /// repeat, and what it means.</summary>
    public sealed record Parameter(string Type, bool Repeats, string Description);

    /// <summary>By name.</summary>
    public static readonly IReadOnlyDictionary<string, Parameter> All = new Dictionary<string, Parameter>(StringComparer.Ordinal)
    {
        ["limit"] = new("integer", false, "Page size (lists: 1 to 100, larger is lowered to 100; sessions and audit 1 to 1000; usage 1 to 1000, default 500)."),
        ["marker"] = new("string", false, "Lists: the id the page begins with (inclusive). Sessions and audit: the last id of the previous page."),
        ["offset"] = new("integer", false, "Items skipped (after the marker), 0 or more."),
        ["status"] = new("string", false, "Only load balancers of this status (ACTIVE, BUILD, PENDING_UPDATE, PENDING_DELETE, SUSPENDED, ERROR, DELETED)."),
        ["changes-since"] = new("string", false, "Only load balancers updated at or after this ISO 8601 date and time."),
        ["nodeaddress"] = new("string", false, "Only load balancers with a node at this IP address or host name (reduced shape: id, name, status)."),
        ["id"] = new("integer", true, "The ids to delete, repeated (?id=1&id=2), at most 10 (BATCH_DELETE_LIMIT)."),
        ["startTime"] = new("string", false, "Start of the range, ISO 8601 (UTC when no offset)."),
        ["endTime"] = new("string", false, "End of the range, ISO 8601 (UTC when no offset)."),
        ["nodeId"] = new("integer", false, "The node (sessions: only its clients; DELETE: required)."),
        ["address"] = new("string", false, "The client's IP address (SOURCE_IP)."),
        ["cookie"] = new("string", false, "The cookie value (HTTP_COOKIE: Tether's cookie; APP_COOKIE: the application cookie's value, or NAME=VALUE with cookieName \"*\")."),
        ["header"] = new("string", false, "The header value (HEADER persistence)."),
    };
}

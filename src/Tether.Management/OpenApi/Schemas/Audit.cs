using System.Text.Json.Nodes;

namespace Tether.Management.OpenApi.Schemas;

/// <summary><c>{"auditEntries":[...]}</c>, newest first.</summary>
internal sealed class AuditEntryList
{
    /// <summary>A page of the account's audit log.</summary>
    public required IReadOnlyList<AuditEntryItem> AuditEntries { get; init; }
}

/// <summary>One configuration change made through the API (<c>Audit/AuditLog.cs</c>).</summary>
internal sealed class AuditEntryItem
{
    /// <summary>Ascending id (the <c>marker</c> of the next page).</summary>
    public required long Id { get; init; }

    /// <summary>When, ISO 8601 UTC with milliseconds.</summary>
    public required string Time { get; init; }

    /// <summary>Which token (its id, never the token).</summary>
    public required string TokenId { get; init; }

    /// <summary>The account.</summary>
    public required int AccountId { get; init; }

    /// <summary>The HTTP method.</summary>
    public required string Method { get; init; }

    /// <summary>The path.</summary>
    public required string Resource { get; init; }

    /// <summary>What was done, e.g. <c>create</c>.</summary>
    public required string Action { get; init; }

    /// <summary>The load balancer changed.</summary>
    public required int LoadBalancerId { get; init; }

    /// <summary>The fields changed (secrets redacted).</summary>
    public required IReadOnlyList<AuditFieldChange> Changes { get; init; }

    /// <summary>Side effects worth a sentence.</summary>
    public required IReadOnlyList<string> Notes { get; init; }

    /// <summary><c>applied</c>, or <c>failed: ...</c>.</summary>
    public required string Outcome { get; init; }
}

/// <summary>A field's old and new value (any JSON; null when absent).</summary>
internal sealed class AuditFieldChange
{
    /// <summary>The field.</summary>
    public required string Field { get; init; }

    /// <summary>Before: any JSON value, null when there was none. (Typed <see cref="JsonNode"/>, not nullable, so that
    /// the schema is "any value" rather than a oneOf that null matches twice.)</summary>
    public required JsonNode Old { get; init; }

    /// <summary>After: any JSON value, null when there is none.</summary>
    public required JsonNode New { get; init; }
}

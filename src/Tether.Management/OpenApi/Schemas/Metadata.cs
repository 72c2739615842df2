namespace Tether.Management.OpenApi.Schemas;

/// <summary>A metadata item: <c>{"id","key","value"}</c> (key and value 1 to 256 characters).</summary>
internal sealed class MetadataItem
{
    /// <summary>Its id (absent in a request).</summary>
    public int? Id { get; init; }

    /// <summary>The key (unique per owner; immutable).</summary>
    public string? Key { get; init; }

    /// <summary>The value.</summary>
    public required string Value { get; init; }
}

/// <summary><c>{"metadata":[...]}</c>: the items of a load balancer or node, or the items a POST adds (at most 25 per
/// owner).</summary>
internal sealed class MetadataList
{
    /// <summary>The items.</summary>
    public required IReadOnlyList<MetadataItem> Metadata { get; init; }
}

/// <summary><c>{"meta":{...}}</c>: one item (GET), or its new value (PUT <c>{"meta":{"value"}}</c>).</summary>
internal sealed class MetaEnvelope
{
    /// <summary>The item.</summary>
    public required MetadataItem Meta { get; init; }
}

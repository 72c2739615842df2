using Tether.Management.Api;

namespace Tether.Management.Requests;

/// <summary>A node as a request body gives it (POST <c>/nodes</c>, PUT <c>/nodes/{id}</c>, or inside a create
/// request), before validation. Null means absent.</summary>
internal sealed class NodeRequest
{
    /// <summary>The path of the node in the body for messages (<c>nodes[2]</c>), or empty for a PUT body.</summary>
    public required string Path { get; init; }

    public required ReadIssues Issues { get; init; }

    /// <summary>The names of the fields present in the body (PUT rejects address, port and status).</summary>
    public required IReadOnlyList<string> PresentFields { get; init; }

    public string? Address { get; init; }
    public int? Port { get; init; }
    public string? Condition { get; init; }
    public string? Type { get; init; }
    public int? Weight { get; init; }

    /// <summary>The node's <c>metadata</c> items (POST <c>/loadbalancers</c> and POST <c>/nodes</c>, as Rackspace
    /// accepts); null when absent.</summary>
    public IReadOnlyList<MetadataRequest>? Metadata { get; init; }

    /// <summary>The field's path for messages.</summary>
    public string PathOf(string field) => Path.Length == 0 ? field : Path + "." + field;

    /// <summary>Reads a node, reporting fields outside <paramref name="fields"/> (which depends on the endpoint).</summary>
    public static NodeRequest Read(FieldReader reader, FieldSet fields)
    {
        reader.CheckFields(fields);
        return Read(reader, withMetadata: fields.Known.Contains("metadata"));
    }

    public static NodeRequest Read(FieldReader reader, bool withMetadata = false) => new()
    {
        Metadata = withMetadata ? MetadataRequest.ReadArray(reader) : null,
        Path = reader.Prefix,
        Issues = reader.Issues,
        PresentFields = [.. reader.PresentNames()],
        Address = reader.String("address"),
        Port = reader.Int("port"),
        Condition = reader.String("condition"),
        Type = reader.String("type"),
        Weight = reader.Int("weight"),
    };
}

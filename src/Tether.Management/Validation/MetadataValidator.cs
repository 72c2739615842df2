using Tether.Core.Model;
using Tether.Management.Api;
using Tether.Management.Requests;

namespace Tether.Management.Validation;

/// <summary>
/// Validates metadata items of load balancers and nodes (Rackspace v1.0 reference, "Metadata": Add Metadata and
/// Modify Metadata; clb-devguide 4.18): <c>key</c> and <c>value</c> required, each 1 to
/// <see cref="Limits.MetaLengthLimit"/> (256) characters; a key is unique per load balancer and per node (ordinal,
/// case-sensitive), within one body and against the items already held; ids are assigned by the service and the key is
/// immutable after. The item count limits (<see cref="Limits.LoadBalancerMetaLimit"/>,
/// <see cref="Limits.NodeMetaLimit"/>) are 413s checked by the service. Every error is collected.
/// </summary>
internal static class MetadataValidator
{
    /// <summary>Validates new items against each other and <paramref name="existing"/>; returns them with id 0, or null
    /// when any error was added. <paramref name="requireOne"/>: an empty list is a 400 (POST <c>/metadata</c>; a
    /// create body may give none).</summary>
    /// <param name="items">The items as read, each with its path (<c>metadata[1]</c>, <c>nodes[0].metadata[1]</c>).</param>
    /// <param name="existing">The items the load balancer or node already holds.</param>
    /// <param name="errors">Receives <c>path.field: reason</c> messages.</param>
    /// <param name="arrayPath">The path of the array, for the empty-list message.</param>
    /// <param name="requireOne">Whether at least one item must be given.</param>
    public static List<MetadataItem>? ValidateNew(IReadOnlyList<MetadataRequest> items, IReadOnlyList<MetadataItem> existing,
        List<string> errors, string arrayPath, bool requireOne)
    {
        var before = errors.Count;
        if (requireOne && items.Count == 0)
        {
            errors.Add($"{arrayPath}: give at least one item ({{\"key\",\"value\"}})");
        }

        var taken = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in existing)
        {
            taken.TryAdd(item.Key, item.Id);
        }

        var keys = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<MetadataItem>();
        foreach (var item in items)
        {
            var key = CheckText(item.Key, $"{item.Path}.key", item.Issues, errors);
            if (key is not null)
            {
                if (taken.TryGetValue(key, out var id))
                {
                    errors.Add($"{item.Path}.key: an item with key '{key}' already exists (id {id}); keys are unique, change its value with PUT .../metadata/{id}");
                    key = null;
                }
                else if (!keys.Add(key))
                {
                    errors.Add($"{item.Path}.key: duplicate key '{key}'");
                    key = null;
                }
            }

            var value = CheckText(item.Value, $"{item.Path}.value", item.Issues, errors);
            if (key is not null && value is not null)
            {
                result.Add(new MetadataItem(0, key, value));
            }
        }

        return errors.Count == before ? result : null;
    }

    /// <summary>The value of a Modify Metadata body (<c>{"meta":{"value":"blue"}}</c>): <c>value</c> required, 1 to 256
    /// characters; <c>key</c> and <c>id</c> are immutable (Rackspace: "Supplying an unsupported attribute will result in
    /// a 400"). Null when any error was added.</summary>
    public static string? ValidateUpdate(FieldReader reader, List<string> errors)
    {
        reader.CheckFields(FieldSet.MetaUpdate);
        var text = reader.String("value");
        var before = errors.Count;
        errors.AddRange(reader.Issues.Messages);
        foreach (var field in new[] { "key", "id" })
        {
            if (reader.Has(field))
            {
                errors.Add($"{reader.PathOf(field)}: is immutable and cannot be changed; delete the item and add a new one");
            }
        }

        var value = CheckText(text, reader.PathOf("value"), reader.Issues, errors);
        return errors.Count == before ? value : null;
    }

    /// <summary>A key or value: required, 1 to 256 characters. A field of the wrong JSON type is already in the
    /// request's issues and is not reported again.</summary>
    private static string? CheckText(string? text, string path, ReadIssues issues, List<string> errors)
    {
        if (text is null)
        {
            if (!issues.IsInvalid(path))
            {
                errors.Add($"{path}: is required (1 to {Limits.MetaLengthLimit} characters)");
            }

            return null;
        }

        if (text.Length is 0 or > Limits.MetaLengthLimit)
        {
            errors.Add($"{path}: must be 1 to {Limits.MetaLengthLimit} characters (got {text.Length})");
            return null;
        }

        return text;
    }
}

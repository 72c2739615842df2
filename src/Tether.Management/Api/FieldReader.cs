using System.Text.Json;

namespace Tether.Management.Api;

/// <summary>
/// Problems found while reading a request body: type errors (each a message naming the field) and the paths of the
/// fields that had them, so that a validator does not also report them as missing.
/// </summary>
internal sealed class ReadIssues
{
    private readonly HashSet<string> _invalid = new(StringComparer.Ordinal);

    public List<string> Messages { get; } = [];

    public void Add(string path, string message)
    {
        _invalid.Add(path);
        Messages.Add($"{path}: {message}");
    }

    public bool IsInvalid(string path) => _invalid.Contains(path);
}

/// <summary>
/// Typed access to the fields of one JSON object of a request. A field that is absent or JSON <c>null</c> reads as
/// null; a field of the wrong JSON type reads as null and is reported to <see cref="ReadIssues"/> with its path.
/// Fields outside the object's <see cref="FieldSet"/> are reported by <see cref="CheckFields"/> (issue 11).
/// </summary>
internal sealed class FieldReader(JsonElement element, string prefix, ReadIssues issues)
{
    public JsonElement Element => element;

    public ReadIssues Issues => issues;

    /// <summary>The path of this object in the body (<c>nodes[0]</c>), empty for the body itself.</summary>
    public string Prefix => prefix;

    /// <summary>The path of a field, for messages: <c>nodes[0].port</c>.</summary>
    public string PathOf(string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>The names of the fields present with a non-null value.</summary>
    public IEnumerable<string> PresentNames() =>
        element.EnumerateObject().Where(p => p.Value.ValueKind != JsonValueKind.Null).Select(p => p.Name);

    public bool Has(string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    public string? String(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }

        issues.Add(PathOf(name), "must be a string");
        return null;
    }

    public int? Int(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number))
        {
            return number;
        }

        // JSON Schema's "integer": any number with a zero fractional part (100, 1E2, 100.0).
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var exact)
            && exact == decimal.Truncate(exact) && exact is >= int.MinValue and <= int.MaxValue)
        {
            return (int)exact;
        }

        issues.Add(PathOf(name), value.ValueKind == JsonValueKind.Number
            ? "must be a whole number within the 32-bit integer range"
            : "must be an integer");
        return null;
    }

    public bool? Bool(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.GetBoolean();
        }

        issues.Add(PathOf(name), "must be true or false");
        return null;
    }

    /// <summary>The readers of each object of an array field; null when absent or not an array of objects.</summary>
    public IReadOnlyList<FieldReader>? ObjectArray(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            issues.Add(PathOf(name), "must be an array of objects");
            return null;
        }

        var result = new List<FieldReader>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var path = $"{PathOf(name)}[{index}]";
            if (item.ValueKind == JsonValueKind.Object)
            {
                result.Add(new FieldReader(item, path, issues));
            }
            else
            {
                issues.Add(path, "must be an object");
            }

            index++;
        }

        return result;
    }

    /// <summary>The reader of an object field; null when absent or not an object.</summary>
    public FieldReader? Object(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            issues.Add(PathOf(name), "must be an object");
            return null;
        }

        return new FieldReader(value, PathOf(name), issues);
    }

    /// <summary>
    /// Reports every field of this object that <paramref name="fields"/> does not know, as
    /// <c>path.name: unknown field; did you mean cookieSecure?</c> (the closest known name, when one is near) or
    /// <c>path.name: unknown field (known fields: a, b, c)</c>, and every field it names as unsupported with its
    /// reason. Fields the set tolerates (read-only fields real Rackspace SDKs echo back) are accepted and ignored, and
    /// so is an unsupported field whose value is null (absent: pyrax sends every create field, null when not given).
    /// </summary>
    public void CheckFields(FieldSet fields)
    {
        foreach (var property in element.EnumerateObject())
        {
            var name = property.Name;
            if (fields.Known.Contains(name, StringComparer.Ordinal) || fields.Tolerated.Contains(name)
                || (fields.Unsupported.ContainsKey(name) && property.Value.ValueKind == JsonValueKind.Null))
            {
                continue;
            }

            if (fields.Unsupported.TryGetValue(name, out var reason))
            {
                issues.Add(PathOf(name), reason);
                continue;
            }

            issues.Add(PathOf(name), FieldSet.UnknownMessage(name, fields));
        }
    }

    private bool TryGet(string name, out JsonElement value) =>
        element.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;
}

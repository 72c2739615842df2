using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Tether.Core.Model;
using Tether.Management.Storage;

namespace Tether.Management.Audit;

/// <summary>
/// Who is making the API call being served: set by the API filter around each endpoint (an
/// <see cref="AsyncLocal{T}"/>, so the service reads it without every endpoint passing it on).
/// </summary>
/// <param name="TokenId">The id of the caller's token (<see cref="Auth.TokenId.Of"/>), never the token.</param>
/// <param name="AccountId">The account the token belongs to.</param>
/// <param name="Method">The HTTP method (<c>POST</c>, <c>PUT</c>, <c>DELETE</c>).</param>
/// <param name="Resource">The request path after <c>/v1.0/{account}</c>, without the query
/// (<c>/loadbalancers/5/nodes</c>).</param>
internal sealed record AuditActor(string TokenId, int AccountId, string Method, string Resource)
{
    private static readonly AsyncLocal<AuditActor?> CurrentActor = new();

    /// <summary>The caller of the API call being served, or null outside one.</summary>
    public static AuditActor? Current
    {
        get => CurrentActor.Value;
        set => CurrentActor.Value = value;
    }

    /// <summary>The action of the HTTP method: <c>create</c> (POST), <c>update</c> (PUT), <c>delete</c> (DELETE).</summary>
    public string Action => Method switch
    {
        "POST" => "create",
        "PUT" => "update",
        "DELETE" => "delete",
        _ => Method.ToLowerInvariant(),
    };
}

/// <summary>One field of a load balancer that a change set from <see cref="Old"/> to <see cref="New"/> (null: absent).</summary>
/// <param name="Field">The field's path in the stored document, dotted; list items by id (<c>nodes[12].condition</c>).</param>
/// <param name="Old">The value before (JSON), or null when the field was absent.</param>
/// <param name="New">The value after (JSON), or null when the field is gone.</param>
internal sealed record AuditChange(string Field, JsonNode? Old, JsonNode? New);

/// <summary>One entry of the audit log (table <c>audit_log</c>).</summary>
/// <param name="Id">Ascending id (0 before it is stored).</param>
/// <param name="AccountId">The account of the load balancer changed.</param>
/// <param name="Time">When the change was committed, UTC.</param>
/// <param name="TokenId">Who: the token's id, or <c>-</c> for a change made outside an API call.</param>
/// <param name="Method">The HTTP method, or <c>-</c>.</param>
/// <param name="Resource">The request path after <c>/v1.0/{account}</c>.</param>
/// <param name="Action"><c>create</c>, <c>update</c> or <c>delete</c>.</param>
/// <param name="LoadBalancerId">The load balancer changed.</param>
/// <param name="Changes">The fields changed, old and new (secrets redacted).</param>
/// <param name="Notes">Side effects worth a sentence (session persistence disabled by a port or protocol change).</param>
/// <param name="Outcome"><c>applied</c>, or <c>failed: ...</c> when the data plane or the store failed (nothing changed).</param>
internal sealed record AuditEntry(
    long Id,
    int AccountId,
    DateTimeOffset Time,
    string TokenId,
    string Method,
    string Resource,
    string Action,
    int LoadBalancerId,
    IReadOnlyList<AuditChange> Changes,
    IReadOnlyList<string> Notes,
    string Outcome)
{
    /// <summary>The entry as the API shows it.</summary>
    public JsonObject ToJson()
    {
        var changes = new JsonArray();
        foreach (var c in Changes)
        {
            changes.Add(new JsonObject { ["field"] = c.Field, ["old"] = c.Old?.DeepClone(), ["new"] = c.New?.DeepClone() });
        }

        var notes = new JsonArray();
        foreach (var n in Notes)
        {
            notes.Add(n);
        }

        return new JsonObject
        {
            ["id"] = Id,
            ["time"] = Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            ["tokenId"] = TokenId,
            ["accountId"] = AccountId,
            ["method"] = Method,
            ["resource"] = Resource,
            ["action"] = Action,
            ["loadBalancerId"] = LoadBalancerId,
            ["changes"] = changes,
            ["notes"] = notes,
            ["outcome"] = Outcome,
        };
    }

    /// <summary>A one-line summary of the changes for the log (at most about 1,000 characters).</summary>
    public string Summary()
    {
        var text = new StringBuilder();
        foreach (var c in Changes)
        {
            if (text.Length > 0)
            {
                text.Append("; ");
            }

            // The whole resource (a create or a delete) has no field name: "created {...}" / "deleted {...}".
            if (c.Field.Length == 0 && (c.Old is null || c.New is null))
            {
                text.Append(c.Old is null ? "created " : "deleted ").Append((c.New ?? c.Old)?.ToJsonString() ?? "-");
            }
            else
            {
                text.Append(c.Field.Length == 0 ? "(resource)" : c.Field).Append(": ").Append(c.Old?.ToJsonString() ?? "-").Append(" -> ").Append(c.New?.ToJsonString() ?? "-");
            }

            if (text.Length > 1000)
            {
                text.Length = 1000;
                text.Append("...");
                break;
            }
        }

        foreach (var n in Notes)
        {
            text.Append(text.Length > 0 ? "; " : "").Append(n);
        }

        return text.Length == 0 ? "no field changed" : text.ToString();
    }
}

/// <summary>
/// The field-by-field difference of two load balancer configurations, over their stored JSON documents (so every
/// field is covered, including ones added later). Lists of objects with an <c>id</c> (nodes, virtual IPs, access
/// list, metadata) are matched by id. Secrets and large values never enter the audit log: the SSL termination's
/// <c>privateKey</c> shows as <c>"[secret]"</c>; a string over 200 characters (certificates, error pages) as its
/// length and the first 12 hex digits of its SHA-256. <c>updated</c> is left out.
/// </summary>
internal static class AuditDiff
{
    private const int LongString = 200;

    /// <summary>The changes from <paramref name="before"/> to <paramref name="after"/> (null: none, for a creation or
    /// a deletion).</summary>
    public static IReadOnlyList<AuditChange> Compute(LoadBalancerConfig? before, LoadBalancerConfig? after)
    {
        var changes = new List<AuditChange>();
        Diff("", Document(before), Document(after), changes);
        return changes;
    }

    /// <summary>The notes of a change: session persistence disabled as a side effect of a port or protocol change
    /// (the listener changed: persistence is dropped, as Rackspace does).</summary>
    public static IReadOnlyList<string> Notes(LoadBalancerConfig? before, LoadBalancerConfig? after, string resource)
    {
        if (before?.SessionPersistence is { } persistence && after is not null && after.SessionPersistence is null
            && !resource.EndsWith("/sessionpersistence", StringComparison.Ordinal))
        {
            var what = before.Protocol != after.Protocol && before.Port != after.Port ? "protocol and port change"
                : before.Protocol != after.Protocol ? "protocol change" : before.Port != after.Port ? "port change" : "change";
            return [$"session persistence ({PersistenceTypeNames.ToName(persistence.Type)}) disabled as a side effect of the {what}"];
        }

        return [];
    }

    private static JsonObject? Document(LoadBalancerConfig? config)
    {
        if (config is null)
        {
            return null;
        }

        var node = JsonNode.Parse(StoredLoadBalancer.Serialize(config))!.AsObject();
        node.Remove("updated");
        return node;
    }

    private static void Diff(string path, JsonNode? before, JsonNode? after, List<AuditChange> changes)
    {
        if (before is JsonObject a && after is JsonObject b)
        {
            foreach (var (key, value) in a)
            {
                Diff(Join(path, key), value, b.TryGetPropertyValue(key, out var other) ? other : null, changes);
            }

            foreach (var (key, value) in b)
            {
                if (!a.ContainsKey(key))
                {
                    Diff(Join(path, key), null, value, changes);
                }
            }

            return;
        }

        if (before is JsonArray x && after is JsonArray y && IsKeyed(x) && IsKeyed(y))
        {
            var left = x.ToDictionary(Id);
            var right = y.ToDictionary(Id);
            foreach (var (id, value) in left)
            {
                Diff($"{path}[{id}]", value, right.GetValueOrDefault(id), changes);
            }

            foreach (var (id, value) in right)
            {
                if (!left.ContainsKey(id))
                {
                    Diff($"{path}[{id}]", null, value, changes);
                }
            }

            return;
        }

        if (JsonNode.DeepEquals(before, after) || (before is null && after is null))
        {
            return;
        }

        // Absent and null are the same to a reader: no change.
        if (IsNull(before) && IsNull(after))
        {
            return;
        }

        changes.Add(new AuditChange(path, Redact(path, before), Redact(path, after)));
    }

    private static bool IsNull(JsonNode? node) => node is null || node.GetValueKind() == System.Text.Json.JsonValueKind.Null;

    private static bool IsKeyed(JsonArray array) =>
        array.All(e => e is JsonObject o && o.TryGetPropertyValue("id", out var id) && id is JsonValue)
        && array.Select(Id).Distinct().Count() == array.Count;

    private static string Id(JsonNode? node) => node!["id"]!.ToJsonString();

    private static string Join(string path, string key) => path.Length == 0 ? key : string.Concat(path, ".", key);

    private static JsonNode? Redact(string path, JsonNode? value)
    {
        if (IsNull(value))
        {
            return null;
        }

        if (path.EndsWith("privateKey", StringComparison.Ordinal))
        {
            return JsonValue.Create("[secret]");
        }

        if (value is JsonObject or JsonArray)
        {
            var copy = value.DeepClone();
            RedactInside(path, copy);
            return copy;
        }

        if (value!.GetValueKind() == System.Text.Json.JsonValueKind.String && value.GetValue<string>() is { Length: > LongString } text)
        {
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];
            return JsonValue.Create($"[{text.Length} characters, sha256 {hash}]");
        }

        return value.DeepClone();
    }

    private static void RedactInside(string path, JsonNode node)
    {
        if (node is JsonObject o)
        {
            foreach (var key in o.Select(p => p.Key).ToList())
            {
                o[key] = Redact(Join(path, key), o[key]);
            }
        }
        else if (node is JsonArray a)
        {
            for (var i = 0; i < a.Count; i++)
            {
                a[i] = Redact(path, a[i]);
            }
        }
    }
}

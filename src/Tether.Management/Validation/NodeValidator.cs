using System.Net;
using Tether.Core.Model;
using Tether.Management.Requests;

namespace Tether.Management.Validation;

/// <summary>
/// Validates nodes (docs/api.md, Rackspace v1.0): <c>address</c> an IPv4 or IPv6 literal, or a host name within
/// one of the allowed domains (<see cref="NodeHostNames"/>, <c>Management:AllowedDomains</c>), and <c>port</c>
/// 1..65535, both required at creation and immutable after; <c>condition</c> ENABLED (default), DISABLED or DRAINING;
/// <c>type</c> PRIMARY (default) or SECONDARY; <c>weight</c> 1..100 (default 1); <c>status</c> read-only; no two
/// nodes of one load balancer with the same address and port (addresses compared as IP addresses, host names as
/// case-insensitive strings); optional <c>metadata</c> items at creation
/// (<see cref="MetadataValidator"/>; their count limit, NODE_META_LIMIT, is a 413 checked by the service). Every error
/// is collected.
/// </summary>
internal static class NodeValidator
{
    public const int MinWeight = 1;
    public const int MaxWeight = 100;

    /// <summary>Fields a node PUT may not carry.</summary>
    private static readonly string[] ImmutableFields = ["address", "port", "status"];

    /// <summary>Validates new nodes against each other and the load balancer's existing nodes; returns them with
    /// id 0 (the service assigns ids), or null when any error was added.</summary>
    /// <param name="requests">The nodes as the request gives them.</param>
    /// <param name="existing">The load balancer's nodes (none at creation).</param>
    /// <param name="errors">Where each error is added.</param>
    /// <param name="arrayPath">The JSON path of the array, for the messages.</param>
    /// <param name="allowedDomains">The allowed domains (<c>Management:AllowedDomains</c>); a host name address must
    /// lie within one of them. Null or empty: only IP addresses are accepted.</param>
    public static List<NodeConfig>? ValidateNew(IReadOnlyList<NodeRequest> requests, IEnumerable<NodeConfig> existing,
        List<string> errors, string arrayPath, IEnumerable<string>? allowedDomains = null)
    {
        var domains = allowedDomains?.ToArray() ?? [];
        var before = errors.Count;
        if (requests.Count == 0)
        {
            errors.Add($"{arrayPath}: at least one node is required");
        }

        var taken = existing.Select(n => Key(n.Address, n.Port)).ToHashSet();
        var result = new List<NodeConfig>();
        foreach (var request in requests)
        {
            var node = ValidateOne(request, errors, domains);
            if (node is null)
            {
                continue;
            }

            if (!taken.Add(Key(node.Address, node.Port)))
            {
                errors.Add($"{request.Path}: duplicate node {Display(node.Address, node.Port)}: a load balancer may hold one node per address and port");
                continue;
            }

            result.Add(node);
        }

        return errors.Count == before ? result : null;
    }

    private static NodeConfig? ValidateOne(NodeRequest request, List<string> errors, string[] allowedDomains)
    {
        var before = errors.Count;
        string? address = null;
        if (request.Address is null)
        {
            Required(request, "address", "an IPv4 or IPv6 address literal, or a host name within an allowed domain", errors);
        }
        else if (NodeHostNames.LooksLikeIpAddress(request.Address))
        {
            address = ValidationRules.ParseNodeAddress(request.Address, out var problem);
            if (address is null)
            {
                errors.Add($"{request.PathOf("address")}: {problem} (got '{request.Address}')");
            }
        }
        else
        {
            address = NodeHostNames.Check(request.Address, allowedDomains, out var problem);
            if (address is null)
            {
                errors.Add($"{request.PathOf("address")}: {problem} (got '{request.Address}')");
            }
        }

        if (request.Port is null)
        {
            Required(request, "port", "an integer from 1 to 65535", errors);
        }
        else if (!ValidationRules.IsPort(request.Port.Value))
        {
            errors.Add($"{request.PathOf("port")}: must be from 1 to 65535 (got {request.Port})");
        }

        var (condition, type, weight) = ValidateMutable(request, errors);
        var metadata = request.Metadata is null
            ? []
            : MetadataValidator.ValidateNew(request.Metadata, [], errors, request.PathOf("metadata"), requireOne: false);

        // A field of the wrong type reads as null and its message is already in the request's issues (issue 11: a
        // port of 1.5 or "80" answered 500 here).
        if (errors.Count != before || address is null || request.Port is null)
        {
            return null;
        }

        return new NodeConfig
        {
            Id = 0,
            Address = address!,
            Port = request.Port.Value,
            Condition = condition ?? NodeCondition.Enabled,
            Type = type ?? NodeType.Primary,
            Weight = weight ?? 1,
            Metadata = [.. metadata ?? []],
        };
    }

    /// <summary>Validates a node PUT (condition, type, weight only) and returns the updated node, or null when any
    /// error was added.</summary>
    public static NodeConfig? ValidateUpdate(NodeRequest request, NodeConfig existing, List<string> errors)
    {
        var before = errors.Count;
        foreach (var field in request.PresentFields.Where(f => ImmutableFields.Contains(f, StringComparer.Ordinal)))
        {
            errors.Add(field == "status"
                ? $"{request.PathOf(field)}: is read-only (set by health monitoring)"
                : $"{request.PathOf(field)}: is immutable and cannot be changed; delete the node and add a new one");
        }

        var (condition, type, weight) = ValidateMutable(request, errors);
        if (errors.Count == before && condition is null && type is null && weight is null
            && request.Issues.Messages.Count == 0)
        {
            errors.Add("node: give at least one of condition, type, weight");
        }

        if (errors.Count != before)
        {
            return null;
        }

        return existing with
        {
            Condition = condition ?? existing.Condition,
            Type = type ?? existing.Type,
            Weight = weight ?? existing.Weight,
        };
    }

    private static (NodeCondition?, NodeType?, int?) ValidateMutable(NodeRequest request, List<string> errors)
    {
        NodeCondition? condition = null;
        if (request.Condition is not null)
        {
            if (ApiNames.TryParseCondition(request.Condition, out var parsed))
            {
                condition = parsed;
            }
            else
            {
                errors.Add($"{request.PathOf("condition")}: must be one of ENABLED, DISABLED, DRAINING (got '{request.Condition}')");
            }
        }

        NodeType? type = null;
        if (request.Type is not null)
        {
            if (ApiNames.TryParseNodeType(request.Type, out var parsed))
            {
                type = parsed;
            }
            else
            {
                errors.Add($"{request.PathOf("type")}: must be PRIMARY or SECONDARY (got '{request.Type}')");
            }
        }

        int? weight = null;
        if (request.Weight is { } w)
        {
            if (w is >= MinWeight and <= MaxWeight)
            {
                weight = w;
            }
            else
            {
                errors.Add($"{request.PathOf("weight")}: must be from {MinWeight} to {MaxWeight} (got {w})");
            }
        }

        return (condition, type, weight);
    }

    private static void Required(NodeRequest request, string field, string what, List<string> errors)
    {
        if (!request.Issues.IsInvalid(request.PathOf(field)))
        {
            errors.Add($"{request.PathOf(field)}: is required ({what})");
        }
    }

    /// <summary>The duplicate key: an IP address compared as an address (any spelling), a host name as its lower-case
    /// text.</summary>
    private static (string, int) Key(string address, int port) =>
        (IPAddress.TryParse(address, out var parsed) ? parsed.ToString() : address.ToLowerInvariant(), port);

    private static string Display(string address, int port) =>
        address.Contains(':', StringComparison.Ordinal) ? $"[{address}]:{port}" : $"{address}:{port}";
}

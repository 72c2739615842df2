using System.Collections.Immutable;
using Tether.Core.Model;
using Tether.Management.Api;
using Tether.Management.Requests;
using Tether.Management.Validation;

namespace Tether.Management;

/// <summary>
/// Metadata of load balancers and nodes (Rackspace v1.0 reference, "Metadata"; docs/api.md "Metadata"). Each change is
/// all or nothing, goes through <see cref="MutateAsync{T}"/> (404 for an unknown load balancer, 422 while it is not
/// mutable, then 404 for an unknown node), and leaves an audit entry. Ids come from the store's metadata sequence and
/// are never reused.
/// </summary>
public sealed partial class LoadBalancerService
{
    /// <summary>The metadata a request addresses: the load balancer's (<paramref name="nodeId"/> null) or one node's;
    /// 404 <c>Node not found</c> for an unknown node.</summary>
    internal static Outcome<MetadataOwner> MetadataOf(LoadBalancerConfig config, int? nodeId)
    {
        if (nodeId is null)
        {
            return new MetadataOwner(config.Metadata, Limits.LoadBalancerMetaLimit, "LOADBALANCER_META_LIMIT", "a load balancer",
                items => config with { Metadata = items });
        }

        for (var i = 0; i < config.Nodes.Length; i++)
        {
            if (config.Nodes[i].Id == nodeId)
            {
                var index = i;
                var node = config.Nodes[i];
                return new MetadataOwner(node.Metadata, Limits.NodeMetaLimit, "NODE_META_LIMIT", "a node",
                    items => config with { Nodes = config.Nodes.SetItem(index, node with { Metadata = items }) });
            }
        }

        return ApiError.NodeNotFound;
    }

    /// <summary>Adds metadata items (POST <c>/metadata</c>) and returns them with their ids: 400 for an invalid item or a
    /// key the owner already has, 413 past LOADBALANCER_META_LIMIT / NODE_META_LIMIT (nothing is added).</summary>
    internal Task<Outcome<IReadOnlyList<MetadataItem>>> AddMetadataAsync(int accountId, int id, int? nodeId,
        IReadOnlyList<MetadataRequest> items, ReadIssues issues, CancellationToken cancellationToken) =>
        MutateAsync<IReadOnlyList<MetadataItem>>(accountId, id, existing =>
        {
            var owner = MetadataOf(existing, nodeId);
            if (owner.Error is { } notFound)
            {
                return notFound;
            }

            var target = owner.Value!;
            var errors = new List<string>(issues.Messages);
            var added = MetadataValidator.ValidateNew(items, target.Items, errors, "metadata", requireOne: true);
            if (added is null || errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            if (target.Items.Length + added.Count > target.Limit)
            {
                return MetaLimitExceeded(target.Name, target.Limit, target.LimitName, target.Items.Length, added.Count);
            }

            var first = _store.NextIds(Storage.Sequences.Metadata, added.Count);
            IReadOnlyList<MetadataItem> created = [.. added.Select((m, i) => m with { Id = first + i })];
            return Change(target.With(target.Items.AddRange(created)), created);
        }, cancellationToken);

    /// <summary>Changes the value of one item (PUT <c>/metadata/{metaId}</c>, <c>{"meta":{"value":"blue"}}</c>): 404 for
    /// an unknown item, 400 for an invalid value or a key or id in the body (immutable).</summary>
    internal Task<Outcome<MetadataItem>> UpdateMetadataAsync(int accountId, int id, int? nodeId, int metaId, FieldReader reader,
        CancellationToken cancellationToken) =>
        MutateAsync<MetadataItem>(accountId, id, existing =>
        {
            var owner = MetadataOf(existing, nodeId);
            if (owner.Error is { } notFound)
            {
                return notFound;
            }

            var target = owner.Value!;
            var index = IndexOf(target.Items, metaId);
            if (index < 0)
            {
                return ApiError.MetadataNotFound;
            }

            var errors = new List<string>();
            var value = MetadataValidator.ValidateUpdate(reader, errors);
            if (value is null || errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            var item = target.Items[index] with { Value = value };
            return Change(target.With(target.Items.SetItem(index, item)), item);
        }, cancellationToken);

    /// <summary>Deletes metadata items by id, all or nothing (Rackspace Remove Metadata, single and <c>?id=</c> batch):
    /// 404 when one of them is not the owner's, and nothing is deleted.</summary>
    internal Task<Outcome<LoadBalancerConfig>> DeleteMetadataAsync(int accountId, int id, int? nodeId,
        IReadOnlyCollection<int> metaIds, CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            var owner = MetadataOf(existing, nodeId);
            if (owner.Error is { } notFound)
            {
                return notFound;
            }

            var target = owner.Value!;
            if (BulkIds.Check(metaIds, m => IndexOf(target.Items, m) >= 0, ApiError.MetadataNotFound) is { } missing)
            {
                return missing;
            }

            var next = target.With(target.Items.RemoveAll(m => metaIds.Contains(m.Id)));
            return Change(next, next);
        }, cancellationToken);

    /// <summary>413 when a node of <paramref name="nodes"/> (a create body, POST <c>/nodes</c>) carries more than
    /// NODE_META_LIMIT items; null otherwise.</summary>
    private static ApiError? NodeMetaOverLimit(IEnumerable<NodeConfig> nodes)
    {
        foreach (var node in nodes)
        {
            if (node.Metadata.Length > Limits.NodeMetaLimit)
            {
                return MetaLimitExceeded("a node", Limits.NodeMetaLimit, "NODE_META_LIMIT", 0, node.Metadata.Length);
            }
        }

        return null;
    }

    /// <summary>Gives the metadata items of <paramref name="nodes"/> their ids from the store's metadata sequence.</summary>
    private IReadOnlyList<NodeConfig> WithNodeMetadataIds(IReadOnlyList<NodeConfig> nodes)
    {
        var count = 0;
        foreach (var node in nodes)
        {
            count += node.Metadata.Length;
        }

        if (count == 0)
        {
            return nodes;
        }

        var next = _store.NextIds(Storage.Sequences.Metadata, count);
        var result = new List<NodeConfig>(nodes.Count);
        foreach (var node in nodes)
        {
            if (node.Metadata.IsEmpty)
            {
                result.Add(node);
                continue;
            }

            var items = ImmutableArray.CreateBuilder<MetadataItem>(node.Metadata.Length);
            foreach (var item in node.Metadata)
            {
                items.Add(item with { Id = next++ });
            }

            result.Add(node with { Metadata = items.MoveToImmutable() });
        }

        return result;
    }

    /// <summary>413 overLimit: <paramref name="held"/> items plus <paramref name="given"/> new ones exceed the limit.</summary>
    private static ApiError MetaLimitExceeded(string name, int limit, string limitName, int held, int given) =>
        new(413, held == 0
            ? $"Metadata limit reached: {name} may hold at most {limit} metadata items ({limitName}; {given} were given)."
            : $"Metadata limit reached: {name} may hold at most {limit} metadata items ({limitName}; it holds {held}, {given} more were given).");

    private static int IndexOf(ImmutableArray<MetadataItem> items, int metaId)
    {
        for (var i = 0; i < items.Length; i++)
        {
            if (items[i].Id == metaId)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The metadata of a load balancer or a node, its limit and how to put changed items back.</summary>
    internal sealed record MetadataOwner(ImmutableArray<MetadataItem> Items, int Limit, string LimitName, string Name,
        Func<ImmutableArray<MetadataItem>, LoadBalancerConfig> With);
}

using Tether.Core.LoadBalancing;

namespace Tether.Core.SessionPersistence;

/// <summary>
/// A weighted Maglev consistent-hashing table (Eisenbud et al., NSDI 2016; weighting as in Envoy's
/// <c>maglev_lb.cc</c>): each node fills table entries along its own permutation, as often as its weight allows, so
/// its share of the entries is its share of the total weight, and removing one of N nodes moves only about 1/N of
/// the keys. Built when the configuration changes, never per request (seed 003: consistent hashing of the source IP).
/// </summary>
public sealed class MaglevTable
{
    /// <summary>The default table size: a prime, 65537.</summary>
    public const int DefaultSize = 65537;

    private readonly NodeState[] _table;

    private MaglevTable(NodeState[] table) => _table = table;

    /// <summary>The number of entries.</summary>
    public int Size => _table.Length;

    /// <summary>Builds the table over <paramref name="nodes"/> (their <see cref="NodeState.HashKey"/> and
    /// <see cref="NodeState.Weight"/>).</summary>
    /// <param name="nodes">The nodes; may be empty (then <c>null</c> is returned).</param>
    /// <param name="size">The table size; must be a prime larger than the number of nodes.</param>
    /// <returns>The table, or <c>null</c> when there are no nodes.</returns>
    public static MaglevTable? Build(IReadOnlyList<NodeState> nodes, int size = DefaultSize) => Build(nodes, null, size);

    /// <summary>Builds the table over <paramref name="nodes"/> with <paramref name="weights"/> (per index, at least 1)
    /// instead of their <see cref="NodeState.Weight"/>: the effective weights of a slow start (issue 13).</summary>
    /// <param name="nodes">The nodes; may be empty (then <c>null</c> is returned).</param>
    /// <param name="weights">One weight per node, or <c>null</c> for the nodes' own.</param>
    /// <param name="size">The table size; must be a prime larger than the number of nodes.</param>
    public static MaglevTable? Build(IReadOnlyList<NodeState> nodes, IReadOnlyList<int>? weights, int size = DefaultSize)
    {
        if (nodes.Count == 0)
        {
            return null;
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(size, nodes.Count);
        var count = nodes.Count;
        var offset = new long[count];
        var skip = new long[count];
        var next = new long[count];
        var target = new long[count];
        var maxWeight = 0;
        for (var i = 0; i < count; i++)
        {
            var key = nodes[i].HashKey;
            offset[i] = (long)(StableHash.Of(key, 0x4d61676c6576UL) % (ulong)size);
            skip[i] = (long)(StableHash.Of(key, 0x536b6970UL) % (ulong)(size - 1)) + 1;
            maxWeight = Math.Max(maxWeight, weights?[i] ?? nodes[i].Weight);
        }

        var table = new NodeState?[size];
        var filled = 0;
        for (long iteration = 1; filled < size; iteration++)
        {
            for (var i = 0; i < count && filled < size; i++)
            {
                // A node of weight w fills an entry on w of every maxWeight iterations.
                if (iteration * (weights?[i] ?? nodes[i].Weight) < target[i])
                {
                    continue;
                }

                target[i] += maxWeight;
                var c = (offset[i] + (skip[i] * next[i])) % size;
                while (table[c] is not null)
                {
                    next[i]++;
                    c = (offset[i] + (skip[i] * next[i])) % size;
                }

                table[c] = nodes[i];
                next[i]++;
                filled++;
            }
        }

        return new MaglevTable(table!);
    }

    /// <summary>The node for a key hash. Allocates nothing.</summary>
    public NodeState Lookup(ulong hash) => _table[(int)(hash % (ulong)_table.Length)];

    /// <summary>Counts the entries each node holds (for tests and statistics).</summary>
    public Dictionary<int, int> CountEntries()
    {
        var counts = new Dictionary<int, int>();
        foreach (var node in _table)
        {
            counts[node.Id] = counts.GetValueOrDefault(node.Id) + 1;
        }

        return counts;
    }
}

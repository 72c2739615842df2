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
    private readonly NodeState[] _nodes;

    private MaglevTable(NodeState[] table, NodeState[] nodes)
    {
        _table = table;
        _nodes = nodes;
    }

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

        return new MaglevTable(table!, [.. nodes]);
    }

    /// <summary>The node for a key hash. Allocates nothing.</summary>
    public NodeState Lookup(ulong hash) => _table[(int)(hash % (ulong)_table.Length)];

    /// <summary>
    /// Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam, "Consistent Hashing with Bounded
    /// Loads", SODA 2018 / arXiv 2016; HAProxy's <c>hash-balance-factor</c>): the node for a key hash, unless its
    /// in-flight load (<see cref="NodeCounters.Active"/>) is above <c>ceil(factor / 100 × (in flight + 1) / nodes)</c>;
    /// then the next entry's node in table order that is not. The <c>+ 1</c> counts the request being placed, as
    /// HAProxy does, so that the bound is never 0 and some node is always under it. No lock, no allocation.
    /// </summary>
    /// <param name="hash">The key's hash.</param>
    /// <param name="balanceFactor">The factor in percent, 101 to 1000; 0 (off) is plain <see cref="Lookup(ulong)"/>.</param>
    public NodeState Lookup(ulong hash, int balanceFactor)
    {
        var start = (int)(hash % (ulong)_table.Length);
        if (balanceFactor <= 0)
        {
            return _table[start];
        }

        long inFlight = 1;
        foreach (var node in _nodes)
        {
            inFlight += node.Counters.Active;
        }

        var bound = ((balanceFactor * inFlight) + (100L * _nodes.Length) - 1) / (100L * _nodes.Length);
        for (var i = 0; i < _table.Length; i++)
        {
            var index = start + i;
            var node = _table[index >= _table.Length ? index - _table.Length : index];
            if (node.Counters.Active <= bound)
            {
                return node;
            }
        }

        return _table[start];
    }

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

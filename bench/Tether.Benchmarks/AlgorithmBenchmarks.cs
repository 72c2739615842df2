using BenchmarkDotNet.Attributes;
using Tether.Core.LoadBalancing;

namespace Tether.Benchmarks;

/// <summary>Every algorithm's pick over 3, 25 and 256 nodes.</summary>
public class AlgorithmBenchmarks
{
    private NodePool _pool = null!;
    private ILoadBalancingAlgorithm _algorithm = null!;

    [Params(3, 25, 256)]
    public int Nodes { get; set; }

    [Params(AlgorithmNames.Random, AlgorithmNames.RoundRobin, AlgorithmNames.WeightedRoundRobin, AlgorithmNames.LeastConnections, AlgorithmNames.WeightedLeastConnections)]
    public string Algorithm { get; set; } = AlgorithmNames.Random;

    [GlobalSetup]
    public void Setup()
    {
        _pool = new NodePool(Fixtures.Nodes(Nodes), SharedRandomSource.Instance);
        _algorithm = Algorithms.Get(Algorithm);
    }

    [Benchmark]
    public NodeState? Pick() => _algorithm.Pick(_pool, 1);
}

namespace Tether.Core.LoadBalancing;

/// <summary>The randomness seam of the algorithms, so that tests are deterministic.</summary>
public interface IRandomSource
{
    /// <summary>A uniformly distributed integer in [0, <paramref name="maxExclusive"/>).</summary>
    int Next(int maxExclusive);
}

/// <summary>The production random source: <see cref="Random.Shared"/> (thread-safe, lock-free).</summary>
public sealed class SharedRandomSource : IRandomSource
{
    /// <summary>The one instance.</summary>
    public static readonly SharedRandomSource Instance = new();

    private SharedRandomSource()
    {
    }

    /// <inheritdoc />
    public int Next(int maxExclusive) => Random.Shared.Next(maxExclusive);
}

/// <summary>A seeded random source for tests. Not thread-safe.</summary>
/// <param name="seed">The seed.</param>
public sealed class SeededRandomSource(int seed) : IRandomSource
{
    private readonly Random _random = new(seed);

    /// <inheritdoc />
    public int Next(int maxExclusive) => _random.Next(maxExclusive);
}

using Tether.Core.LoadBalancing;

namespace Tether.Testing;

/// <summary>A seeded random source for tests (the <see cref="IRandomSource"/> seam). Not thread-safe.</summary>
/// <param name="seed">The seed.</param>
public sealed class SeededRandomSource(int seed) : IRandomSource
{
    private readonly Random _random = new(seed);

    /// <inheritdoc />
    public int Next(int maxExclusive) => _random.Next(maxExclusive);

    /// <inheritdoc />
    public long NextInt64() => _random.NextInt64();
}

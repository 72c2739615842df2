namespace Tether.Core.LoadBalancing;

/// <summary>The randomness seam of the algorithms, so that tests are deterministic (tests: SeededRandomSource in
/// tests/Tether.Testing).</summary>
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

namespace Tether.Core.LoadBalancing;

/// <summary>The randomness seam of Tether (the algorithms' picks, new session ids), so that tests are deterministic
/// (tests: SeededRandomSource in tests/Tether.Testing). Product code reads randomness only through it
/// (BannedSymbols.txt).</summary>
public interface IRandomSource
{
    /// <summary>A uniformly distributed integer in [0, <paramref name="maxExclusive"/>).</summary>
    int Next(int maxExclusive);

    /// <summary>A uniformly distributed non-negative 64-bit integer in [0, <see cref="long.MaxValue"/>). The default
    /// draws twice from <see cref="Next"/> (62 random bits).</summary>
    long NextInt64() => ((long)Next(int.MaxValue) << 31) | (uint)Next(int.MaxValue);
}

// The one place product code reads Random.Shared: this is the seam (BannedSymbols.txt bans it everywhere else).
#pragma warning disable RS0030
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

    /// <inheritdoc />
    public long NextInt64() => Random.Shared.NextInt64();
}
#pragma warning restore RS0030

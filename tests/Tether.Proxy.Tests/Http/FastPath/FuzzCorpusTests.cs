using Tether.Fuzz;

namespace Tether.Proxy.Tests.Http.FastPath;

/// <summary>Replays fuzz/corpus (the seeds of fuzz/run.sh, and the reproducers of what it found) through the fuzz
/// target's invariants (fuzz/Tether.Fuzz/FuzzTargets.cs, compiled into this project), so that CI checks them without
/// AFL.</summary>
public sealed class FuzzCorpusTests
{
    /// <summary>The corpus files, by name.</summary>
    public static TheoryData<string> Seeds => new(Directory.GetFiles(CorpusDirectory()).Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Parse_SeedCorpus_KeepsInvariants(string seed)
    {
        var input = File.ReadAllBytes(Path.Combine(CorpusDirectory(), seed));

        var exception = Record.Exception(() => FuzzTargets.Run(input));

        Assert.Null(exception);
    }

    [Fact]
    public void SeedCorpus_CoversEveryTarget()
    {
        var targets = Directory.GetFiles(CorpusDirectory()).Select(f => File.ReadAllBytes(f)[0] % 3).ToHashSet();

        Assert.Equal([0, 1, 2], targets.Order());
    }

    private static string CorpusDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var corpus = Path.Combine(directory.FullName, "fuzz", "corpus");
            if (Directory.Exists(corpus))
            {
                return corpus;
            }
        }

        throw new DirectoryNotFoundException("fuzz/corpus not found above " + AppContext.BaseDirectory);
    }
}

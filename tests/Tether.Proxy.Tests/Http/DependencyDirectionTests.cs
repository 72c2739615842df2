namespace Tether.Proxy.Tests.Http;

/// <summary>The shape of <c>src/Tether.Proxy/Http</c> (issue 13, docs/architecture.md "The HTTP/1.1 fast path"): the
/// fast path depends on <c>Http</c> and never the other way, its files stay small, and clock reads go through a
/// <see cref="TimeProvider"/>. Read from the source files of the repository the tests run in.</summary>
public sealed class DependencyDirectionTests
{
    private static readonly string HttpFolder = Path.Combine(RepositoryRoot(), "src", "Tether.Proxy", "Http");

    [Fact]
    public void HttpFiles_DoNotReferenceTheFastPath()
    {
        var offenders = Directory.GetFiles(HttpFolder, "*.cs", SearchOption.TopDirectoryOnly)
            .Where(file => CodeLines(file).Any(line => line.Contains("FastPath", StringComparison.Ordinal)))
            .Select(Path.GetFileName)
            .ToList();

        Assert.Empty(offenders);
    }

    [Fact]
    public void FastPathFiles_DoNotReferenceHttpProxyHandler()
    {
        var offenders = FastPathFiles()
            .Where(file => File.ReadAllText(file).Contains("HttpProxyHandler", StringComparison.Ordinal))
            .Select(Path.GetFileName)
            .ToList();

        Assert.Empty(offenders);
    }

    [Fact]
    public void FastPathConnectionFiles_AreAtMost300Lines()
    {
        var offenders = FastPathFiles()
            .Where(file => Path.GetFileName(file).StartsWith("Http1", StringComparison.Ordinal) && File.ReadAllLines(file).Length > 300)
            .Select(Path.GetFileName)
            .ToList();

        Assert.Empty(offenders);
    }

    [Fact]
    public void HttpFiles_ReadTheClockOnlyThroughTimeProvider()
    {
        var offenders = Directory.GetFiles(HttpFolder, "*.cs", SearchOption.AllDirectories)
            .Where(file => CodeLines(file).Any(line => line.Contains("Stopwatch.GetTimestamp", StringComparison.Ordinal)
                || line.Contains("Stopwatch.GetElapsedTime", StringComparison.Ordinal)
                || line.Contains("Environment.TickCount", StringComparison.Ordinal)))
            .Select(Path.GetFileName)
            .ToList();

        Assert.Empty(offenders);
    }

    private static string[] FastPathFiles() => Directory.GetFiles(Path.Combine(HttpFolder, "FastPath"), "*.cs");

    /// <summary>The lines of <paramref name="file"/> that are not comments (docstrings may name what the code avoids).</summary>
    private static IEnumerable<string> CodeLines(string file) =>
        File.ReadLines(file).Where(line => !line.TrimStart().StartsWith("//", StringComparison.Ordinal));

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Tether.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Tether.slnx not found above " + AppContext.BaseDirectory);
    }
}

using Tether.Fuzz;

// Under afl-fuzz (fuzz/run.sh): no arguments, SharpFuzz reads each input and reports exceptions as crashes.
// Without AFL: `dotnet Tether.Fuzz.dll FILE...` runs the given inputs (a crash to reproduce, the corpus) and prints
// the broken invariant, with exit code 1 when one failed.
if (args.Length > 0)
{
    var failed = 0;
    foreach (var path in args.SelectMany(a => Directory.Exists(a) ? Directory.GetFiles(a) : [a]).Order(StringComparer.Ordinal))
    {
        try
        {
            FuzzTargets.Run(File.ReadAllBytes(path));
            Console.WriteLine($"ok    {path}");
        }
        catch (Exception e)
        {
            failed++;
            Console.WriteLine($"FAIL  {path}: {e}");
        }
    }

    return failed == 0 ? 0 : 1;
}

SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
{
    using var memory = new MemoryStream();
    stream.CopyTo(memory);
    FuzzTargets.Run(memory.GetBuffer().AsSpan(0, (int)memory.Length));
});
return 0;

using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Tether.FunctionalTests.Infrastructure;
using Tether.Proxy;
using Xunit.Abstractions;

namespace Tether.FunctionalTests.Differential;

/// <summary>
/// The differential harness of issue 10: a seeded corpus of client connections (<see cref="RequestCorpus"/>) goes
/// through a load balancer over a <see cref="CaptureNode"/>, on each data path; for every request the node must receive
/// exactly what <see cref="ForwardingSpec"/> computes from the client's bytes (one recorded request per client request,
/// nothing smuggled), and the client exactly its own answer. <c>TETHER_DIFF_CASES</c> sets the number of cases
/// (default 2000), <c>TETHER_DIFF_SEED</c> the seed (default 10), <c>TETHER_DIFF_CASE</c> runs that one case only.
/// </summary>
public sealed class DifferentialTests(ITestOutputHelper output)
{
    private const string ClientAddress = "127.0.0.1";
    private const int ShownFailures = 5;

    [Theory]
    [InlineData("fast")]
    [InlineData("kestrel")]
    public async Task Forward_GeneratedCorpus_NodeGetsExpectedRequestsAndClientItsOwnAnswer(string path)
    {
        var seed = Setting("TETHER_DIFF_SEED", 10);
        var only = Environment.GetEnvironmentVariable("TETHER_DIFF_CASE");
        var cases = only is null ? Enumerable.Range(0, Setting("TETHER_DIFF_CASES", 2000)) : [int.Parse(only, CultureInfo.InvariantCulture)];
        var corpus = new RequestCorpus(seed);
        var fastPath = path == "fast";
        await using var tether = await TetherInstance.StartAsync(proxyOptions: new ProxyOptions { Http1FastPath = fastPath, ShutdownTimeoutSeconds = 5 });
        await using var node = CaptureNode.Start();
        var (_, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        var failures = new ConcurrentDictionary<int, string?>();
        var requests = 0;

        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (number, _) =>
        {
            var generated = corpus.Case(number);
            Interlocked.Add(ref requests, generated.Requests.Count);
            var failure = await RunCaseAsync(generated, port, node, fastPath);
            if (failure is not null)
            {
                // Only the first failures' texts are kept: a run of millions stays small.
                failures[number] = failures.Count < 200 ? failure : null;
            }
        });

        // Each record a client's check matched was removed: what is left reached the node beyond the clients'
        // requests (a body parsed as a request, a request Tether had to refuse), or belongs to a failed case.
        await Task.Delay(200);
        var left = node.ById.Values.OrderBy(r => r.Id).ToList();
        var strays = left.Where(r => !IsCaseTarget(r.Message.Target, out var n) || !failures.ContainsKey(n)).ToList();
        var nodeFailures = node.Failures.ToList();

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"path {path}, seed {seed}: {cases.Count()} cases, {requests} requests, {node.Received} received by the node over {node.Connections} connections");
        report.AppendLine(CultureInfo.InvariantCulture, $"failed cases: {failures.Count}; node parse failures: {nodeFailures.Count}; requests received beyond the clients' (or refused ones): {strays.Count}");
        foreach (var group in cases.GroupBy(n => Features(corpus.Case(n))).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var failed = group.Where(failures.ContainsKey).ToList();
            report.AppendLine(CultureInfo.InvariantCulture, $"  cases with [{group.Key}]: {group.Count()}, failed: {failed.Count}{(failed.Count > 0 ? " (" + string.Join(' ', failed.Take(8)) + (failed.Count > 8 ? " ..." : "") + ")" : "")}");
        }

        foreach (var (number, text) in failures.Where(f => f.Value is not null).OrderBy(f => f.Key).Take(ShownFailures))
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"--- seed {seed}, case {number} (TETHER_DIFF_SEED={seed} TETHER_DIFF_CASE={number}) ---");
            report.AppendLine(CultureInfo.InvariantCulture, $"client bytes: {StrictHttp1Reader.Escape(corpus.Case(number).Bytes, 3000)}");
            report.AppendLine(text);
        }

        foreach (var text in nodeFailures.Take(ShownFailures))
        {
            report.AppendLine("node: " + text);
        }

        foreach (var stray in strays.Take(ShownFailures))
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"received beyond the clients' requests, as request {stray.Id}: {StrictHttp1Reader.Escape(stray.Message.Head, 600)}");
        }

        output.WriteLine(report.ToString());
        Assert.True(failures.IsEmpty && nodeFailures.Count == 0 && strays.Count == 0, report.ToString());
    }

    /// <summary>Sends one generated connection and checks every answer and what the node received; null when all is
    /// right, else what went wrong.</summary>
    private static async Task<string?> RunCaseAsync(GeneratedCase generated, int port, CaptureNode node, bool fastPath)
    {
        using var socket = new Socket(System.Net.Sockets.AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(System.Net.IPAddress.Loopback, port);
            string? sendError = null;
            try
            {
                foreach (var write in generated.Writes)
                {
                    await socket.SendAsync(write, SocketFlags.None);
                }
            }
            catch (SocketException e)
            {
                // Tether closed after a 400 while later pipelined bytes were still coming: the answers decide.
                sendError = e.Message;
            }

            var reader = new StrictHttp1Reader(socket, RawHttpConnection.ReadTimeout);
            for (var k = 0; k < generated.Requests.Count; k++)
            {
                var request = generated.Requests[k];
                var answer = await reader.ReadResponseAsync(request.Method == "HEAD");
                while (answer is { Status: < 200 })
                {
                    answer = await reader.ReadResponseAsync(request.Method == "HEAD");
                }

                if (answer is null)
                {
                    return $"request {k}: the connection ended before its answer (sending: {sendError ?? "ok"})";
                }

                var rejected = fastPath ? request.Rejected : KestrelPathSpec.Rejects(request);
                var problem = rejected ? CheckRejected(answer) : CheckAnswer(answer, node, request, port, fastPath);
                if (problem is not null)
                {
                    await DrainAsync(reader, generated.Requests.Skip(k + 1));
                    return $"request {k} ({request.RequestLine}): {problem}";
                }

                if (rejected || (fastPath ? request.Closes : KestrelPathSpec.Closes(request)))
                {
                    return await reader.ClosedAsync(RawHttpConnection.ReadTimeout) ? null : "the connection stayed open after a 400 or Connection: close";
                }
            }

            if (reader.Pending > 0)
            {
                return $"bytes after the last answer: {StrictHttp1Reader.Escape(reader.PendingBytes, 600)}";
            }

            return null;
        }
        catch (Exception e) when (e is StrictHttpException or TimeoutException or SocketException or IOException)
        {
            return $"client side: {e.GetType().Name}: {e.Message}";
        }
    }

    /// <summary>Reads the answers to <paramref name="rest"/> after a failed check, so that the client does not cut
    /// requests still in flight (which the node would report as failures of their own).</summary>
    private static async Task DrainAsync(StrictHttp1Reader reader, IEnumerable<GeneratedRequest> rest)
    {
        try
        {
            foreach (var request in rest)
            {
                while (await reader.ReadResponseAsync(request.Method == "HEAD") is { Status: < 200 })
                {
                }
            }
        }
        catch (Exception e) when (e is StrictHttpException or TimeoutException or SocketException or IOException)
        {
        }
    }

    private static string? CheckRejected(StrictMessage answer)
    {
        if (answer.Status != 400)
        {
            return $"expected 400 (Content-Length values differ), got {StrictHttp1Reader.Escape(answer.Head)}";
        }

        // A refused request that reached the node anyway is left over in the node's records (see the end of the run).
        return null;
    }

    private static string? CheckAnswer(StrictMessage answer, CaptureNode node, GeneratedRequest request, int port, bool fastPath)
    {
        var ids = answer.Values("X-Capture-Id");
        if (answer.Status != 200 || ids.Count != 1 || !int.TryParse(ids[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            || !node.ById.TryGetValue(id, out var captured))
        {
            return $"not an answer of the node: {StrictHttp1Reader.Escape(answer.Head)}{StrictHttp1Reader.Escape(answer.Body, 300)}";
        }

        if (captured.Message.Target != request.Target || answer.Values("X-Capture-Target").SingleOrDefault() != request.Target)
        {
            return $"the answer to another request ({captured.Message.Target}, id {id})";
        }

        var expectedBody = request.Method == "HEAD" ? "" : CaptureNode.BodyFor(captured);
        if (Encoding.Latin1.GetString(answer.Body) != expectedBody)
        {
            return $"answer body '{StrictHttp1Reader.Escape(answer.Body, 600)}', expected '{StrictHttp1Reader.Escape(expectedBody)}'";
        }

        var received = captured.Message;
        if (fastPath)
        {
            var expected = ForwardingSpec.FastPathHead(request, ClientAddress, port);
            if (!received.Head.AsSpan().SequenceEqual(expected) || !received.RawBody.AsSpan().SequenceEqual(request.RawBody))
            {
                return $"node received (id {id}):\n  head: {StrictHttp1Reader.Escape(received.Head)}\n  body: {StrictHttp1Reader.Escape(received.RawBody, 600)}\n"
                    + $"expected:\n  head: {StrictHttp1Reader.Escape(expected)}\n  body: {StrictHttp1Reader.Escape(request.RawBody, 600)}";
            }

            node.ById.TryRemove(id, out _);
            return null;
        }

        var want = KestrelPathSpec.Fields(request, ClientAddress, port);
        var got = KestrelPathSpec.Normalize(received.Fields);
        if (!want.SequenceEqual(got) || !received.Body.AsSpan().SequenceEqual(request.Body) || received.Trailers.Count != 0)
        {
            return $"node received (id {id}):\n  head: {StrictHttp1Reader.Escape(received.Head)}\n  body: {StrictHttp1Reader.Escape(received.Body, 600)}\n"
                + $"  trailers: {string.Join(" | ", received.Trailers.Select(t => t.Line))}\n  as fields: {KestrelPathSpec.Show(got)}\nexpected fields: {KestrelPathSpec.Show(want)}\n  body: {StrictHttp1Reader.Escape(request.Body, 600)}";
        }

        node.ById.TryRemove(id, out _);
        return null;
    }

    /// <summary>The traits of a case that issue 10's defects hinge on, to tell in the report which kinds of cases fail.</summary>
    private static string Features(GeneratedCase generated)
    {
        var features = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var request in generated.Requests)
        {
            var fields = request.Fields;
            static bool IsForwardedFor(FieldLine f) => string.Equals(f.Name, "X-Forwarded-For", StringComparison.OrdinalIgnoreCase);
            var first = fields.ToList().FindIndex(IsForwardedFor);
            if (first >= 0 && fields.Skip(first).Any(f => !IsForwardedFor(f)))
            {
                features.Add("X-Forwarded-For followed by another field");
            }

            if (fields.Any(f => IsForwardedFor(f) && f.Value.Length == 0))
            {
                features.Add("an empty X-Forwarded-For");
            }

            if (fields.Count(f => string.Equals(f.Name, "Content-Length", StringComparison.OrdinalIgnoreCase)) > 1)
            {
                features.Add(request.Rejected ? "Content-Length values differ" : "repeated Content-Length, same value");
            }
        }

        return features.Count == 0 ? "none of these" : string.Join(", ", features);
    }

    /// <summary>True when <paramref name="target"/> is a client request's target, <c>/c{case}/r{k}</c> with an optional
    /// query; <paramref name="number"/> is its case.</summary>
    private static bool IsCaseTarget(string target, out int number)
    {
        var match = System.Text.RegularExpressions.Regex.Match(target, @"^/c([0-9]+)/r[0-9]+(\?[^/]*)?$");
        number = match.Success ? int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture) : -1;
        return match.Success;
    }

    internal static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : fallback;
}

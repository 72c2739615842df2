using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Tether.FunctionalTests.Infrastructure;
using Tether.Proxy;
using Xunit.Abstractions;

namespace Tether.FunctionalTests.Differential;

/// <summary>
/// Issue 10, item 3: clients through one load balancer over <see cref="CaptureNode"/>s that misbehave. Whatever a node
/// does, every client must get its own answer (its own target in <c>X-Capture-Target</c>) or a 5xx from Tether, never
/// another request's answer or bytes; an answer the node itself cut short may reach the client cut short. The extra
/// bytes the nodes send are a whole answer of their own (<see cref="Forged"/>), so a reused node connection shows as a
/// crossing. <c>TETHER_MISBEHAVING_REQUESTS</c> sets the requests per scenario (default 250; 1200 gives more than
/// 10,000 per data path).
/// </summary>
public sealed class MisbehavingNodeTests(ITestOutputHelper output)
{
    private const int Loops = 6;

    public static TheoryData<string, string> Scenarios()
    {
        var data = new TheoryData<string, string>();
        foreach (var path in new[] { "fast", "kestrel" })
        {
            foreach (var scenario in new[] { "early", "late", "head-with-body", "short-length", "long-length", "close-mid-answer", "interim-storm", "garbage-status", "mixed" })
            {
                data.Add(path, scenario);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Forward_MisbehavingNode_EachClientGetsItsOwnAnswerOr5xx(string path, string scenario)
    {
        var total = DifferentialTests.Setting("TETHER_MISBEHAVING_REQUESTS", 250);
        var late = new ConcurrentDictionary<string, TaskCompletionSource>();
        var behaviours = scenario == "mixed" ? ["early", "late", "long-length"] : new[] { scenario };
        // Late extra bytes are only "in the idle connection before reuse" if nobody else reuses it meanwhile: with
        // them, each client has its own load balancer (and nodes), so its next request waits for them; the other
        // scenarios share one load balancer between all clients.
        var balancers = behaviours.Contains("late") ? Loops : 1;
        var nodes = Enumerable.Range(0, balancers).Select(_ => behaviours.Select(b => CaptureNode.Start(Behaviour(b, late))).ToList()).ToList();
        try
        {
            await using var tether = await TetherInstance.StartAsync(proxyOptions: new ProxyOptions { Http1FastPath = path == "fast", ShutdownTimeoutSeconds = 5 });
            var ports = new List<int>();
            foreach (var group in nodes)
            {
                ports.Add((await tether.CreateLoadBalancerAsync("ROUND_ROBIN", group.Select(n => n.Port))).Port);
            }

            var tally = new Tally();
            var cuts = scenario is "short-length" or "close-mid-answer";

            await Task.WhenAll(Enumerable.Range(0, Loops).Select(loop => ClientLoopAsync(ports[loop % balancers], scenario, loop, (total + Loops - 1 - loop) / Loops, cuts, late, tally)));

            var summary = $"{path}, {scenario}: {tally.Requests} requests, {tally.Own} own answers ({tally.OwnCut} of them cut short by the node), "
                + $"{tally.Status502} 502, {tally.Status503} 503, {tally.Status504} 504, {tally.Crossings} crossings, {tally.Others} other failures; "
                + $"{nodes.SelectMany(g => g).Sum(n => n.Received)} requests at the nodes over {nodes.SelectMany(g => g).Sum(n => n.Connections)} connections";
            output.WriteLine(summary);
            foreach (var failure in tally.Failures.Take(8))
            {
                output.WriteLine("  " + failure);
            }

            Assert.True(tally.Requests == total && tally.Crossings == 0 && tally.Others == 0,
                summary + "\n" + string.Join("\n", tally.Failures.Take(8)));
        }
        finally
        {
            foreach (var node in nodes.SelectMany(g => g))
            {
                await node.DisposeAsync();
            }
        }
    }

    /// <summary>A complete answer the node sends where none was asked for: a client that gets it got bytes that are not
    /// its own.</summary>
    private static byte[] Forged(int id) =>
        Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nX-Capture-Id: {id}\r\nX-Capture-Target: /forged/{id}\r\nContent-Length: 16\r\n\r\nforged-{id % 1_000_000_000,9}");

    private static byte[] Cat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    private static Func<CaptureExchange, Task<bool>> Behaviour(string scenario, ConcurrentDictionary<string, TaskCompletionSource> late) => scenario switch
    {
        // Extra bytes after the answer, in the same write.
        "early" => async e =>
        {
            await e.WriteAsync(Cat(e.Answer, Forged(e.Request.Id)));
            return true;
        }
        ,

        // Extra bytes 50-200 ms after the answer, while the connection is idle; the client is told when they are out.
        "late" => async e =>
        {
            var written = late.GetOrAdd(e.Request.Message.Target, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            try
            {
                await e.WriteAsync(e.Answer);
                await Task.Delay(50 + (e.Request.Id * 37 % 151));
                await e.WriteAsync(Forged(e.Request.Id));
            }
            finally
            {
                written.TrySetResult();
            }

            return true;
        }
        ,

        // A HEAD answered with a body (which is a whole answer).
        "head-with-body" => async e =>
        {
            if (!e.IsHead)
            {
                await e.WriteAsync(e.Answer);
                return true;
            }

            var forged = Forged(e.Request.Id);
            var head = Encoding.ASCII.GetString(e.Answer);
            await e.WriteAsync(Cat(Encoding.ASCII.GetBytes(head[..head.IndexOf("Content-Length", StringComparison.Ordinal)] + $"Content-Length: {forged.Length}\r\n\r\n"), forged));
            return true;
        }
        ,

        // Fewer body bytes than declared, then close.
        "short-length" => async e =>
        {
            var body = Encoding.ASCII.GetBytes(CaptureNode.BodyFor(e.Request));
            var head = $"HTTP/1.1 200 OK\r\nX-Capture-Id: {e.Request.Id}\r\nX-Capture-Target: {e.Request.Message.Target}\r\nContent-Length: {body.Length + 40}\r\n\r\n";
            await e.WriteAsync(e.IsHead ? Encoding.ASCII.GetBytes(head) : Cat(Encoding.ASCII.GetBytes(head), body));
            return e.IsHead;
        }
        ,

        // More body bytes than declared: the rest of the body and a whole answer after it.
        "long-length" => async e =>
        {
            var body = Encoding.ASCII.GetBytes(CaptureNode.BodyFor(e.Request));
            var head = $"HTTP/1.1 200 OK\r\nX-Capture-Id: {e.Request.Id}\r\nX-Capture-Target: {e.Request.Message.Target}\r\nContent-Length: {body.Length - 12}\r\n\r\n";
            await e.WriteAsync(e.IsHead ? Cat(Encoding.ASCII.GetBytes(head), Forged(e.Request.Id)) : Cat(Encoding.ASCII.GetBytes(head), body, Forged(e.Request.Id)));
            return true;
        }
        ,

        // The connection closes in the status line, in the head, or in the body.
        "close-mid-answer" => async e =>
        {
            var answer = e.Answer;
            var head = Encoding.ASCII.GetString(answer).IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
            var cut = (e.Request.Id % 3) switch { 0 => 10, 1 => head / 2, _ => head + Math.Max(0, (answer.Length - head) / 2) };
            await e.WriteAsync(answer.AsMemory(0, Math.Min(cut, answer.Length)));
            return false;
        }
        ,

        // 50 interim answers before the final one.
        "interim-storm" => async e =>
        {
            var interim = Encoding.ASCII.GetBytes("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n");
            for (var i = 0; i < 5; i++)
            {
                await e.WriteAsync(Enumerable.Repeat(interim, 10).SelectMany(b => b).ToArray());
            }

            await e.WriteAsync(e.Answer);
            return true;
        }
        ,

        // No status line: garbage, then close (or stay open).
        "garbage-status" => async e =>
        {
            await e.WriteAsync(e.Request.Id % 2 == 0 ? "garbage\r\n\r\n" : "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n");
            return e.Request.Id % 4 == 1;
        }
        ,
        _ => throw new ArgumentOutOfRangeException(nameof(scenario), scenario, null),
    };

    /// <summary>One client: <paramref name="count"/> requests, sequential, on a kept connection (loops 0-3) or a new
    /// connection each (loops 4-5); a connection Tether closes is replaced by a new one.</summary>
    private static async Task ClientLoopAsync(int port, string scenario, int loop, int count, bool cuts, ConcurrentDictionary<string, TaskCompletionSource> late, Tally tally)
    {
        var random = new Random(loop * 7919);
        Socket? socket = null;
        StrictHttp1Reader? reader = null;
        try
        {
            for (var i = 0; i < count; i++)
            {
                if (socket is null || loop >= 4)
                {
                    socket?.Dispose();
                    socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    await socket.ConnectAsync(IPAddress.Loopback, port);
                    reader = new StrictHttp1Reader(socket, RawHttpConnection.ReadTimeout);
                }

                var target = $"/m/{scenario}/{loop}/{i}";
                var method = random.Next(100) switch { < 45 => "GET", < 70 => "POST", _ => "HEAD" };
                if (scenario == "head-with-body" && random.Next(2) == 0)
                {
                    method = "HEAD";
                }

                var request = method == "POST"
                    ? $"POST {target} HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello there"
                    : $"{method} {target} HTTP/1.1\r\nHost: h\r\n\r\n";
                var keep = await ExchangeAsync(socket, reader!, request, target, method == "HEAD", cuts, tally);
                if (scenario is "late" or "mixed" && late.TryGetValue(target, out var written))
                {
                    // The node's late bytes are in the idle node connection before the next request may reuse it.
                    await written.Task.WaitAsync(TimeSpan.FromSeconds(10));
                    await Task.Delay(20);
                }

                if (!keep)
                {
                    socket.Dispose();
                    socket = null;
                }
            }
        }
        finally
        {
            socket?.Dispose();
        }
    }

    /// <summary>One request and its answer, classified; false when the connection cannot be used again.</summary>
    private static async Task<bool> ExchangeAsync(Socket socket, StrictHttp1Reader reader, string request, string target, bool head, bool cuts, Tally tally)
    {
        Interlocked.Increment(ref tally.Requests);
        StrictMessage? answer;
        try
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None);
            do
            {
                answer = await reader.ReadResponseAsync(head);
            }
            while (answer is { Status: < 200 });
        }
        catch (StrictHttpException e) when (e.Partial is { } partial)
        {
            // The answer's head came and its body was cut: acceptable when the node cut it, and only if it is ours.
            var own = partial.Values("X-Capture-Target") is [var t] && t == target;
            if (!own)
            {
                tally.Fail(ref tally.Crossings, $"{target}: a cut answer that is not its own: {StrictHttp1Reader.Escape(partial.Head)}");
            }
            else if (!cuts)
            {
                tally.Fail(ref tally.Others, $"{target}: its own answer cut short ({e.Message}) though the node sent it whole");
            }
            else
            {
                Interlocked.Increment(ref tally.Own);
                Interlocked.Increment(ref tally.OwnCut);
            }

            return false;
        }
        catch (Exception e) when (e is StrictHttpException or TimeoutException or SocketException or IOException)
        {
            tally.Fail(ref tally.Others, $"{target}: {e.GetType().Name}: {e.Message}");
            return false;
        }

        if (answer is null)
        {
            tally.Fail(ref tally.Others, $"{target}: the connection ended with no answer");
            return false;
        }

        var text = Encoding.Latin1.GetString(answer.Head) + Encoding.Latin1.GetString(answer.Body);
        var targets = answer.Values("X-Capture-Target");
        if (answer.Status is 502 or 503 or 504 && targets.Count == 0 && !text.Contains("forged", StringComparison.Ordinal))
        {
            if (answer.Status == 502)
            {
                Interlocked.Increment(ref tally.Status502);
            }
            else if (answer.Status == 503)
            {
                Interlocked.Increment(ref tally.Status503);
            }
            else
            {
                Interlocked.Increment(ref tally.Status504);
            }
        }
        else if (answer.Status == 200 && targets is [var t] && t == target && !text.Contains("forged", StringComparison.Ordinal)
            && (head ? answer.Body.Length == 0 : Encoding.ASCII.GetString(answer.Body).Contains($" target={target} ", StringComparison.Ordinal)))
        {
            Interlocked.Increment(ref tally.Own);
        }
        else if (targets.Count > 0 || text.Contains("forged", StringComparison.Ordinal) || text.Contains("target=", StringComparison.Ordinal))
        {
            tally.Fail(ref tally.Crossings, $"{target}: got another request's answer: {StrictHttp1Reader.Escape(Encoding.Latin1.GetBytes(text), 400)}");
        }
        else
        {
            tally.Fail(ref tally.Others, $"{target}: unexpected answer: {StrictHttp1Reader.Escape(Encoding.Latin1.GetBytes(text), 400)}");
        }

        return !answer.Values("Connection").Any(v => v.Contains("close", StringComparison.OrdinalIgnoreCase));
    }

    private sealed class Tally
    {
#pragma warning disable CA1051, SA1401 // counters updated with Interlocked
        public int Requests;
        public int Own;
        public int OwnCut;
        public int Status502;
        public int Status503;
        public int Status504;
        public int Crossings;
        public int Others;
#pragma warning restore CA1051, SA1401

        public ConcurrentQueue<string> Failures { get; } = new();

        public void Fail(ref int counter, string message)
        {
            Interlocked.Increment(ref counter);
            Failures.Enqueue(message);
        }
    }
}

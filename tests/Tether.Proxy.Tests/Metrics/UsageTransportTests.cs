using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Tether.Core.Runtime;
using Tether.Proxy.Metrics;

namespace Tether.Proxy.Tests.Metrics;

/// <summary>The usage counting of HTTP listeners (<see cref="UsageTransport"/>): bytes the server consumes from the
/// client (not merely looks at) and bytes it writes, plain or SSL, and the connection counted open while it lasts.</summary>
public sealed class UsageTransportTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Middleware_PartialConsumeAndWrites_CountsConsumedAndWrittenBytesWhileTheConnectionIsOpen(bool ssl)
    {
        var counters = new UsageCounters();
        var fromClient = new Pipe();
        var toClient = new Pipe();
        var connection = new DefaultConnectionContext("c1", new Duplex(fromClient.Reader, toClient.Writer), new Duplex(toClient.Reader, fromClient.Writer));
        UsageSample during = default;

        await UsageTransport.Middleware(counters, ssl)(async c =>
        {
            await fromClient.Writer.WriteAsync(new byte[10]);
            var first = await c.Transport.Input.ReadAsync();
            // The server takes 4 of the 10 bytes and has looked at all: only 4 count so far.
            c.Transport.Input.AdvanceTo(first.Buffer.GetPosition(4), first.Buffer.End);
            Assert.Equal(4, Incoming(counters.Read(), ssl));

            await fromClient.Writer.WriteAsync(new byte[5]);
            var second = await c.Transport.Input.ReadAsync();
            Assert.Equal(11, second.Buffer.Length);
            c.Transport.Input.AdvanceTo(second.Buffer.End);

            c.Transport.Output.GetSpan(3)[..3].Fill(1);
            c.Transport.Output.Advance(3);
            await c.Transport.Output.FlushAsync();
            await c.Transport.Output.WriteAsync(new byte[7]);
            during = counters.Read();
        })(connection);

        var after = counters.Read();
        Assert.Equal(15, Incoming(after, ssl));
        Assert.Equal(10, ssl ? after.OutgoingSsl : after.Outgoing);
        Assert.Equal(0, ssl ? after.Incoming + after.Outgoing : after.IncomingSsl + after.OutgoingSsl);
        Assert.Equal(1, ssl ? during.ConnectionsSsl : during.Connections);
        Assert.Equal(0, after.Connections + after.ConnectionsSsl);
        var written = await toClient.Reader.ReadAsync();
        Assert.Equal(10, written.Buffer.Length);
    }

    private static long Incoming(UsageSample sample, bool ssl) => ssl ? sample.IncomingSsl : sample.Incoming;

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }
}

namespace Tether.Core.Runtime;

/// <summary>
/// The usage counters of one load balancer (Rackspace's usage reports, docs/api.md "Usage"): bytes received from
/// clients and sent to clients, split into plain traffic and SSL termination traffic (the secure port), and the
/// client connections open now, plain and SSL. The data paths bump them; the usage recorder reads them every poll.
/// </summary>
/// <remarks>
/// <para>What counts is the bytes on the client's socket, as Rackspace counts transfer at the load balancer: an HTTP
/// connection's request and answer heads and bodies, chunk framing included, and on the secure port the TLS records
/// (handshake included); a TCP connection's payload; a UDP datagram's payload (no IP or UDP header). Bytes between
/// Tether and the nodes do not count.</para>
/// <para>The transfer counters only grow (cumulative since the load balancer's runtime was created); the recorder takes
/// differences between polls. The hot path resolves this object once per listener or connection handler (it lives on
/// <see cref="LoadBalancerRuntime.Usage"/>, which outlives configuration changes) and only calls
/// <see cref="Interlocked"/> on its fields: no lock, no lookup, no allocation.</para>
/// </remarks>
public sealed class UsageCounters
{
    private long _incoming;
    private long _outgoing;
    private long _incomingSsl;
    private long _outgoingSsl;
    private int _connections;
    private int _connectionsSsl;

    /// <summary>Counts <paramref name="bytes"/> received from a client.</summary>
    /// <param name="bytes">The byte count (0 or more).</param>
    /// <param name="ssl">True on the SSL termination (secure) port.</param>
    public void AddIncoming(long bytes, bool ssl = false)
    {
        if (ssl)
        {
            Interlocked.Add(ref _incomingSsl, bytes);
        }
        else
        {
            Interlocked.Add(ref _incoming, bytes);
        }
    }

    /// <summary>Counts <paramref name="bytes"/> sent to a client.</summary>
    /// <param name="bytes">The byte count (0 or more).</param>
    /// <param name="ssl">True on the SSL termination (secure) port.</param>
    public void AddOutgoing(long bytes, bool ssl = false)
    {
        if (ssl)
        {
            Interlocked.Add(ref _outgoingSsl, bytes);
        }
        else
        {
            Interlocked.Add(ref _outgoing, bytes);
        }
    }

    /// <summary>A client connection (a UDP flow) opened; call <see cref="ConnectionClosed"/> once when it ends.</summary>
    public void ConnectionOpened(bool ssl = false) => Interlocked.Increment(ref ssl ? ref _connectionsSsl : ref _connections);

    /// <summary>A client connection counted by <see cref="ConnectionOpened"/> ended.</summary>
    public void ConnectionClosed(bool ssl = false) => Interlocked.Decrement(ref ssl ? ref _connectionsSsl : ref _connections);

    /// <summary>The counters now.</summary>
    public UsageSample Read() => new(
        Volatile.Read(ref _incoming),
        Volatile.Read(ref _outgoing),
        Volatile.Read(ref _incomingSsl),
        Volatile.Read(ref _outgoingSsl),
        Volatile.Read(ref _connections),
        Volatile.Read(ref _connectionsSsl));
}

/// <summary>One reading of <see cref="UsageCounters"/>: cumulative bytes (plain and SSL, from and to clients) and the
/// connections open at the moment of reading.</summary>
/// <param name="Incoming">Bytes received from clients on the plain port(s), since the runtime was created.</param>
/// <param name="Outgoing">Bytes sent to clients on the plain port(s).</param>
/// <param name="IncomingSsl">Bytes received from clients on the SSL termination port.</param>
/// <param name="OutgoingSsl">Bytes sent to clients on the SSL termination port.</param>
/// <param name="Connections">Plain client connections (UDP flows) open now.</param>
/// <param name="ConnectionsSsl">SSL termination client connections open now.</param>
public readonly record struct UsageSample(long Incoming, long Outgoing, long IncomingSsl, long OutgoingSsl, int Connections, int ConnectionsSsl);

using Tether.Core.LoadBalancing;

namespace Tether.Proxy.Health;

/// <summary>One kind of active health check (CONNECT, HTTP, HTTPS): probes one node once.</summary>
internal interface IHealthProbe
{
    /// <summary>Probes <paramref name="node"/>. The caller bounds the time with <paramref name="cancellationToken"/>
    /// (the monitor's timeout) and reports a cancellation as a timeout; any other failure is a result, not an
    /// exception.</summary>
    ValueTask<ProbeResult> ProbeAsync(NodeState node, CancellationToken cancellationToken);
}

/// <summary>The result of one probe.</summary>
/// <param name="Healthy">Whether the node passed.</param>
/// <param name="Detail">What was seen, for the node event's <c>detailedMessage</c> and the log: <c>Node is
/// working</c>, or why it failed.</param>
internal readonly record struct ProbeResult(bool Healthy, string Detail)
{
    /// <summary>The detail of a passing probe (Rackspace's wording).</summary>
    public const string Working = "Node is working";

    public static ProbeResult Pass() => new(true, Working);

    public static ProbeResult Fail(string detail) => new(false, detail);
}

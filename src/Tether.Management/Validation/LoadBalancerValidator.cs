using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Management.Requests;

namespace Tether.Management.Validation;

/// <summary>
/// Validates load balancers (docs/api.md; Rackspace v1.0). Create: <c>name</c> 1..128 characters,
/// <c>protocol</c> a name of <see cref="Protocols"/>, <c>port</c> 1..65535 (defaults to the protocol's port when it
/// has one), one virtual IP or an IPV4 and an IPV6 one (<see cref="VirtualIpValidator"/>), at least one node, <c>algorithm</c> a name of <see cref="AlgorithmNames"/> (default RANDOM),
/// <c>timeout</c> 1..120 seconds (default <see cref="LoadBalancerConfig.DefaultTimeoutSeconds"/>), optional session persistence, health monitor and metadata; no other load balancer may
/// listen on an overlapping address with the same port and transport. UDP-based protocols (DNS_UDP, UDP, UDP_STREAM)
/// take no <c>healthMonitor</c>, <c>sslTermination</c> or enabled <c>connectionLogging</c> (Rackspace protocols
/// reference: UDP load balancers cannot use health monitoring or SSL termination; issue 5 adds connection logging).
/// <c>halfClosed</c> is accepted on every protocol and only used by TCP-based ones. Update: only name, algorithm,
/// protocol, port, timeout, halfClosed, httpsRedirect and slowStartSeconds (Tether's, 0..3600 seconds, default 0 =
/// off; issue 13). Every error is collected.
/// </summary>
internal static partial class LoadBalancerValidator
{
    /// <summary>The smallest backend timeout, in seconds.</summary>
    public const int MinTimeoutSeconds = 1;

    /// <summary>The largest backend timeout, in seconds (Rackspace: 120).</summary>
    public const int MaxTimeoutSeconds = 120;

    /// <summary>The longest slow start, in seconds (one hour; nginx and HAProxy set no bound, an hour-long ramp is
    /// already longer than any warm-up a node needs).</summary>
    public const int MaxSlowStartSeconds = 3600;

    /// <summary>The fields PUT <c>/loadbalancers/{id}</c> may change.</summary>
    public static readonly IReadOnlyList<string> UpdatableFields =
        ["name", "algorithm", "protocol", "port", "timeout", "halfClosed", "httpsRedirect", "slowStartSeconds"];

    public static LoadBalancerPlan? ValidateCreate(LoadBalancerRequest request, ValidationContext context, List<string> errors)
    {
        var before = errors.Count;
        var name = ValidateName(request, required: true, errors);
        var protocol = ValidateProtocol(request, required: true, errors);

        int? port = request.Port;
        if (port is null)
        {
            if (protocol is not null && Protocols.TryGet(protocol, out var info) && info.DefaultPort > 0)
            {
                port = info.DefaultPort;
            }
            else if (!request.Issues.IsInvalid("port"))
            {
                errors.Add(protocol is null
                    ? "port: is required (1 to 65535)"
                    : $"port: is required for protocol {protocol}, which has no default port (1 to 65535)");
            }
        }
        else if (!ValidationRules.IsPort(port.Value))
        {
            errors.Add($"port: must be from 1 to 65535 (got {port})");
            port = null;
        }

        var algorithm = ValidateAlgorithm(request, errors) ?? AlgorithmNames.Random;
        var timeout = ValidateTimeout(request, errors) ?? LoadBalancerConfig.DefaultTimeoutSeconds;
        var slowStart = ValidateSlowStart(request, errors) ?? 0;
        if (protocol is not null && Protocols.TryGet(protocol, out var layerInfo) && layerInfo.Layer == ProtocolLayer.Udp)
        {
            ValidateUdpFeatures(request, protocol, errors);
        }

        var vips = VirtualIpValidator.ValidateAtCreation(request, context, errors);
        foreach (var vip in vips ?? [])
        {
            if (port is not null && protocol is not null
                && ValidationRules.FindListenerConflict(context.All, 0, vip.Address, port.Value, protocol) is not null)
            {
                errors.Add(ConflictMessage(vip.Address, port.Value, protocol));
            }
        }

        IReadOnlyList<NodeConfig>? nodes = null;
        if (request.Nodes is null)
        {
            if (!request.Issues.IsInvalid("nodes"))
            {
                errors.Add("nodes: at least one node is required");
            }
        }
        else
        {
            nodes = NodeValidator.ValidateNew(request.Nodes, [], errors, "nodes", context.Options.AllowedDomains);
        }

        SessionPersistenceConfig? persistence = null;
        if (request.SessionPersistence is not null)
        {
            persistence = SessionPersistenceValidator.Validate(request.SessionPersistence, protocol, errors);
        }

        HealthMonitorConfig? monitor = null;
        if (request.HealthMonitor is not null)
        {
            monitor = HealthMonitorValidator.Validate(request.HealthMonitor, protocol, errors);
        }

        var metadata = ValidateMetadata(request.Metadata, errors);
        if (request.HttpsRedirect == true)
        {
            errors.Add("httpsRedirect: needs SSL termination; create the load balancer, PUT /ssltermination, then set httpsRedirect");
        }

        if (errors.Count != before || request.Issues.Messages.Count > 0)
        {
            return null;
        }

        return new LoadBalancerPlan(name!, protocol!, port!.Value, algorithm, timeout, request.HalfClosed ?? false,
            request.HttpsRedirect ?? false, vips!, nodes!, persistence, metadata, monitor, slowStart);
    }

    /// <summary>UDP-based protocols cannot have health monitoring or SSL termination (Rackspace protocols reference),
    /// nor connection logging (issue 5).</summary>
    private static void ValidateUdpFeatures(LoadBalancerRequest request, string protocol, List<string> errors)
    {
        const string udpProtocols = "UDP-based protocols (DNS_UDP, UDP, UDP_STREAM)";
        if (request.PresentFields.Contains("healthMonitor"))
        {
            errors.Add($"healthMonitor: health monitoring is not available for {udpProtocols}; this load balancer is {protocol}");
        }

        if (request.ConnectionLoggingRequested)
        {
            errors.Add($"connectionLogging: connection logging is not available for {udpProtocols}; this load balancer is {protocol}");
        }

        if (request.PresentFields.Contains("sslTermination"))
        {
            errors.Add($"sslTermination: SSL termination is not available for {udpProtocols}; this load balancer is {protocol}");
        }
    }

    private static string ConflictMessage(string address, int port, string protocol) =>
        $"port: {port}/{(ValidationRules.IsUdp(protocol) ? "UDP" : "TCP")} is already used on virtual IP {address} by another load balancer";
}

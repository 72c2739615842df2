using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Management.Requests;

namespace Tether.Management.Validation;

/// <summary>What the validator needs to know about the rest of the system.</summary>
/// <param name="AccountId">The account making the request (virtual IPs are shared within an account only).</param>
/// <param name="All">Every load balancer of every account (listen address and port collisions are host-wide).</param>
/// <param name="Options">The addresses that PUBLIC and SERVICENET virtual IPs bind.</param>
internal sealed record ValidationContext(int AccountId, IReadOnlyCollection<LoadBalancerConfig> All, ManagementOptions Options);

/// <summary>A validated create request; the service assigns the ids.</summary>
internal sealed record LoadBalancerPlan(
    string Name,
    string Protocol,
    int Port,
    string Algorithm,
    int TimeoutSeconds,
    bool HalfClosed,
    bool HttpsRedirect,
    IReadOnlyList<VirtualIpPlan> VirtualIps,
    IReadOnlyList<NodeConfig> Nodes,
    SessionPersistenceConfig? SessionPersistence,
    IReadOnlyList<(string Key, string Value)> Metadata,
    HealthMonitorConfig? HealthMonitor = null,
    int SlowStartSeconds = 0);

/// <summary>
/// Validates load balancers (docs/api.md; Rackspace v1.0). Create: <c>name</c> 1..128 characters,
/// <c>protocol</c> a name of <see cref="Protocols"/>, <c>port</c> 1..65535 (defaults to the protocol's port when it
/// has one), one virtual IP or an IPV4 and an IPV6 one (<see cref="VirtualIpValidator"/>), at least one node, <c>algorithm</c> a name of <see cref="AlgorithmNames"/> (default RANDOM),
/// <c>timeout</c> 1..120 seconds (default 30), optional session persistence, health monitor and metadata; no other load balancer may
/// listen on an overlapping address with the same port and transport. UDP-based protocols (DNS_UDP, UDP, UDP_STREAM)
/// take no <c>healthMonitor</c>, <c>sslTermination</c> or enabled <c>connectionLogging</c> (Rackspace protocols
/// reference: UDP load balancers cannot use health monitoring or SSL termination; issue 5 adds connection logging).
/// <c>halfClosed</c> is accepted on every protocol and only used by TCP-based ones. Update: only name, algorithm,
/// protocol, port, timeout, halfClosed, httpsRedirect and slowStartSeconds (Tether's, 0..3600 seconds, default 0 =
/// off; issue 13). Every error is collected.
/// </summary>
internal static class LoadBalancerValidator
{
    public const int MinTimeoutSeconds = 1;
    public const int MaxTimeoutSeconds = 120;
    public const int DefaultTimeoutSeconds = 30;

    /// <summary>The longest slow start, in seconds (one hour; nginx and HAProxy set no bound, an hour-long ramp is
    /// already longer than any warm-up a node needs).</summary>
    public const int MaxSlowStartSeconds = 3600;

    /// <summary>The fields PUT <c>/loadbalancers/{id}</c> may change.</summary>
    public static readonly IReadOnlyList<string> UpdatableFields =
        ["name", "algorithm", "protocol", "port", "timeout", "halfClosed", "httpsRedirect", "slowStartSeconds"];

    /// <summary>Known load balancer fields that PUT rejects (each has its own resource, or is read-only).</summary>
    private static readonly HashSet<string> NotUpdatableFields = new(StringComparer.Ordinal)
    {
        "id", "status", "created", "updated", "virtualIps", "nodes", "nodeCount", "sessionPersistence", "metadata",
        "cluster", "connectionLogging", "connectionThrottle", "healthMonitor", "accessList", "sourceAddresses",
        "contentCaching", "sslTermination", "errorPage",
    };

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
        var timeout = ValidateTimeout(request, errors) ?? DefaultTimeoutSeconds;
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

    /// <summary>Validates a PUT and returns the changed configuration (timestamps untouched), or null when any error
    /// was added. A protocol or port change disables session persistence (seed 000); a protocol the health monitor
    /// does not fit (UDP, or HTTP/HTTPS monitor type mismatch) is a 400.</summary>
    public static LoadBalancerConfig? ValidateUpdate(LoadBalancerRequest request, LoadBalancerConfig existing,
        ValidationContext context, List<string> errors)
    {
        var before = errors.Count;
        foreach (var field in request.PresentFields.Where(NotUpdatableFields.Contains))
        {
            errors.Add($"{field}: cannot be changed by PUT /loadbalancers/{{id}}, which changes only {string.Join(", ", UpdatableFields)}");
        }

        if (!request.PresentFields.Any(f => UpdatableFields.Contains(f)))
        {
            errors.Add($"loadBalancer: give at least one of {string.Join(", ", UpdatableFields)}");
        }

        var name = ValidateName(request, required: false, errors);
        var protocol = ValidateProtocol(request, required: false, errors);
        int? port = request.Port;
        if (port is not null && !ValidationRules.IsPort(port.Value))
        {
            errors.Add($"port: must be from 1 to 65535 (got {port})");
            port = null;
        }

        var algorithm = ValidateAlgorithm(request, errors);
        var timeout = ValidateTimeout(request, errors);
        var slowStart = ValidateSlowStart(request, errors);

        var newProtocol = protocol ?? existing.Protocol;
        var newPort = port ?? existing.Port;
        var listenerChanged = newProtocol != existing.Protocol || newPort != existing.Port;
        if (listenerChanged)
        {
            foreach (var vip in existing.VirtualIps)
            {
                if (ValidationRules.FindListenerConflict(context.All, existing.Id, vip.Address, newPort, newProtocol) is not null)
                {
                    errors.Add(ConflictMessage(vip.Address, newPort, newProtocol));
                }
            }
        }

        if (existing.SslTermination is { } ssl)
        {
            if (newProtocol != Protocols.Http)
            {
                errors.Add($"protocol: a load balancer with SSL termination must stay HTTP; delete its SSL termination first");
            }

            if (newPort == ssl.SecurePort)
            {
                errors.Add($"port: {newPort} is the SSL termination's securePort");
            }
        }

        if (ValidationRules.IsUdp(newProtocol) && (existing.ConnectionLogging || !existing.AccessList.IsEmpty || existing.ConnectionThrottle is not null))
        {
            errors.Add($"protocol: {newProtocol} is UDP-based and cannot keep connection logging, an access list or a connection throttle; remove them first");
        }

        if (request.HttpsRedirect == true && existing.SslTermination is not { Enabled: true })
        {
            // Rackspace: httpsRedirect needs TLS on the load balancer; Tether redirects on HTTP load balancers with SSL
            // termination (an HTTPS pass-through load balancer has no plain HTTP listener to redirect from).
            errors.Add("httpsRedirect: needs SSL termination on this HTTP load balancer (PUT /ssltermination first)");
        }

        if (protocol is not null && existing.HealthMonitor is { } monitor && newProtocol != existing.Protocol
            && HealthMonitorValidator.ProtocolProblem(monitor.Type, newProtocol) is { } problem)
        {
            errors.Add($"protocol: {newProtocol} does not fit the load balancer's {HealthMonitorTypeNames.ToName(monitor.Type)} health monitor: {problem}; change or delete the health monitor first");
        }

        if (errors.Count != before || request.Issues.Messages.Count > 0)
        {
            return null;
        }

        return existing with
        {
            Name = name ?? existing.Name,
            Protocol = newProtocol,
            Port = newPort,
            Algorithm = algorithm ?? existing.Algorithm,
            TimeoutSeconds = timeout ?? existing.TimeoutSeconds,
            HalfClosed = request.HalfClosed ?? existing.HalfClosed,
            HttpsRedirect = request.HttpsRedirect ?? existing.HttpsRedirect,
            SlowStartSeconds = slowStart ?? existing.SlowStartSeconds,
            SessionPersistence = listenerChanged ? null : existing.SessionPersistence,
            // Rackspace: a load balancer changed to a non-HTTP protocol gets the default error page back.
            ErrorPage = newProtocol == Protocols.Http ? existing.ErrorPage : null,
            // Content caching caches HTTP answers: a load balancer changed to another protocol has it turned off.
            ContentCaching = newProtocol == Protocols.Http && existing.ContentCaching,
        };
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

    private static string? ValidateName(LoadBalancerRequest request, bool required, List<string> errors)
    {
        if (request.Name is null)
        {
            if (required && !request.Issues.IsInvalid("name"))
            {
                errors.Add($"name: is required (1 to {Limits.NameLimit} characters)");
            }

            return null;
        }

        if (request.Name.Length is 0 or > Limits.NameLimit)
        {
            errors.Add($"name: must be 1 to {Limits.NameLimit} characters (got {request.Name.Length})");
            return null;
        }

        return request.Name;
    }

    private static string? ValidateProtocol(LoadBalancerRequest request, bool required, List<string> errors)
    {
        if (request.Protocol is null)
        {
            if (required && !request.Issues.IsInvalid("protocol"))
            {
                errors.Add("protocol: is required (see GET /loadbalancers/protocols)");
            }

            return null;
        }

        if (!Protocols.TryGet(request.Protocol, out _))
        {
            errors.Add($"protocol: must be one of {string.Join(", ", Protocols.All.Select(p => p.Name))} (got '{request.Protocol}')");
            return null;
        }

        return request.Protocol;
    }

    private static string? ValidateAlgorithm(LoadBalancerRequest request, List<string> errors)
    {
        if (request.Algorithm is null)
        {
            return null;
        }

        if (!AlgorithmNames.IsKnown(request.Algorithm))
        {
            errors.Add($"algorithm: must be one of {string.Join(", ", AlgorithmNames.All)} (got '{request.Algorithm}')");
            return null;
        }

        return request.Algorithm;
    }

    private static int? ValidateTimeout(LoadBalancerRequest request, List<string> errors)
    {
        if (request.Timeout is not { } timeout)
        {
            return null;
        }

        if (timeout is < MinTimeoutSeconds or > MaxTimeoutSeconds)
        {
            errors.Add($"timeout: must be from {MinTimeoutSeconds} to {MaxTimeoutSeconds} seconds (got {timeout})");
            return null;
        }

        return timeout;
    }

    /// <summary><c>slowStartSeconds</c>: 0 (off) to <see cref="MaxSlowStartSeconds"/>; null when absent.</summary>
    private static int? ValidateSlowStart(LoadBalancerRequest request, List<string> errors)
    {
        if (request.SlowStartSeconds is not { } seconds)
        {
            return null;
        }

        if (seconds is < 0 or > MaxSlowStartSeconds)
        {
            errors.Add($"slowStartSeconds: must be from 0 (off) to {MaxSlowStartSeconds} seconds (got {seconds})");
            return null;
        }

        return seconds;
    }

    /// <summary>The load balancer's metadata at creation (<see cref="MetadataValidator"/>); the item count limit is a
    /// 413 checked by the service.</summary>
    private static List<(string, string)> ValidateMetadata(IReadOnlyList<MetadataRequest>? items, List<string> errors) =>
        items is null
            ? []
            : MetadataValidator.ValidateNew(items, [], errors, "metadata", requireOne: false)?.Select(m => (m.Key, m.Value)).ToList() ?? [];
}

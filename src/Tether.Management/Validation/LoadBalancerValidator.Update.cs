using Tether.Core.Model;
using Tether.Management.Requests;

namespace Tether.Management.Validation;

/// <summary>PUT <c>/loadbalancers/{id}</c>: the fields it may change and the rules on the changed load balancer.</summary>
internal static partial class LoadBalancerValidator
{
    /// <summary>Known load balancer fields that PUT rejects (each has its own resource, or is read-only).</summary>
    private static readonly HashSet<string> NotUpdatableFields = new(StringComparer.Ordinal)
    {
        "id", "status", "created", "updated", "virtualIps", "nodes", "nodeCount", "sessionPersistence", "metadata",
        "cluster", "connectionLogging", "connectionThrottle", "healthMonitor", "accessList", "sourceAddresses",
        "contentCaching", "sslTermination", "errorPage",
    };

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
}

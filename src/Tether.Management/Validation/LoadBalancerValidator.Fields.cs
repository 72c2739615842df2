using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Management.Requests;

namespace Tether.Management.Validation;

/// <summary>The rules of single load balancer fields, shared by create and update: name, protocol, algorithm,
/// timeout and metadata.</summary>
internal static partial class LoadBalancerValidator
{
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

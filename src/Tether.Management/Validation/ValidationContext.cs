using Tether.Core.Model;

namespace Tether.Management.Validation;

/// <summary>What the validator needs to know about the rest of the system.</summary>
/// <param name="AccountId">The account making the request (virtual IPs are shared within an account only).</param>
/// <param name="All">Every load balancer of every account (listen address and port collisions are host-wide).</param>
/// <param name="Options">The addresses that PUBLIC and SERVICENET virtual IPs bind.</param>
internal sealed record ValidationContext(int AccountId, IReadOnlyCollection<LoadBalancerConfig> All, ManagementOptions Options);

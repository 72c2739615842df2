using Tether.Core.Model;

namespace Tether.Core;

/// <summary>
/// The data plane as the management side sees it: it turns a stored <see cref="LoadBalancerConfig"/> into live
/// listeners and a runtime model. Implemented by <c>Tether.Proxy</c>.
/// </summary>
/// <remarks>
/// A change is all or nothing: when a new listener cannot be bound, <see cref="ApplyAsync"/> throws
/// <see cref="ListenerBindException"/> and the previous configuration of that load balancer stays live.
/// In-flight requests are never failed by a change: they finish on the snapshot they started with.
/// </remarks>
public interface IDataPlane
{
    /// <summary>Creates or updates the load balancer <paramref name="config"/> describes (keyed by its id).</summary>
    /// <exception cref="ListenerBindException">A virtual IP and port could not be bound; nothing changed.</exception>
    Task ApplyAsync(LoadBalancerConfig config, CancellationToken cancellationToken);

    /// <summary>Stops the load balancer's listeners (in-flight requests finish) and forgets its runtime state.
    /// Unknown ids are ignored.</summary>
    Task RemoveAsync(int loadBalancerId, CancellationToken cancellationToken);
}

/// <summary>A listener could not be bound (address in use, address not on this host, permission denied).</summary>
public sealed class ListenerBindException : Exception
{
    /// <summary>Creates the exception with a message that names the address and port and the reason.</summary>
    public ListenerBindException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }
}

/// <summary>Read access to the live runtime of each load balancer, for the persistence API and statistics (never the
/// request path).</summary>
public interface IRuntimeRegistry
{
    /// <summary>The runtime of load balancer <paramref name="loadBalancerId"/>, or <c>null</c> when it is not live.</summary>
    Runtime.LoadBalancerRuntime? FindRuntime(int loadBalancerId);
}

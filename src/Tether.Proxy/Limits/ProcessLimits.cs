using Microsoft.Extensions.Logging;

namespace Tether.Proxy.Limits;

/// <summary>The process-wide limits of the data plane, applied once at start before any listener binds.</summary>
public static class ProcessLimits
{
    /// <summary>Raises the open file limit to the hard limit (<see cref="FileDescriptorLimit"/>), logs both (event
    /// 1401), and sets the connection budget of <paramref name="options"/>:
    /// <see cref="ProxyOptions.MaxOpenConnections"/> when set, else the open file limit less
    /// <see cref="ConnectionBudget.ReservedDescriptors"/> (no limit where the open file limit cannot be read).</summary>
    public static void Apply(ProxyOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var limits = FileDescriptorLimit.Raise();
        var budget = options.MaxOpenConnections > 0 ? options.MaxOpenConnections
            : limits is { } l ? ConnectionBudget.DefaultFor(l.Soft) : 0;
        options.Budget.Limit = budget;
        if (limits is { } found)
        {
            var change = string.Concat(
                found.Raised ? "; raised to the hard limit" : string.Empty,
                budget > 0 ? $"; the data plane holds at most {budget} connections (Proxy:MaxOpenConnections)" : string.Empty);
            ProxyLog.FileLimit(logger, found.Soft, found.Hard, change);
        }
    }
}

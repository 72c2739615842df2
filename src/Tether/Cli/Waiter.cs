using System.CommandLine;
using System.Globalization;
using System.Net;

namespace Tether.Cli;

/// <summary>
/// <c>--wait</c>: after a change, polls <c>GET /loadbalancers/{id}</c> every half second until the status is
/// <c>ACTIVE</c> (Rackspace's changes pass through <c>PENDING_UPDATE</c>; Tether applies them synchronously, so the
/// first poll usually sees ACTIVE), or, after a delete, until the load balancer is gone (404, or status
/// <c>DELETED</c>). <c>ERROR</c> or <c>--wait-timeout</c> seconds without either ends it with exit code 1.
/// </summary>
internal static class Waiter
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    /// <summary>Waits when <c>--wait</c> is given; else returns at once.</summary>
    /// <exception cref="WaitException">ERROR, or the timeout.</exception>
    public static async Task IfAskedAsync(ParseResult parse, ApiClient api, int loadBalancerId, bool gone, CancellationToken cancellationToken, TimeProvider? time = null)
    {
        if (!parse.GetValue(CliOptions.Wait))
        {
            return;
        }

        time ??= TimeProvider.System;
        var timeout = TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(CliOptions.WaitTimeout)));
        var deadline = time.GetUtcNow() + timeout;
        var id = loadBalancerId.ToString(CultureInfo.InvariantCulture);
        string? status = null;
        while (true)
        {
            try
            {
                var answer = await api.GetAsync($"loadbalancers/{id}", cancellationToken).ConfigureAwait(false);
                status = answer?["loadBalancer"]?["status"]?.ToString();
            }
            catch (ApiException e) when (e.Status == HttpStatusCode.NotFound && gone)
            {
                CliOutput.Note($"load balancer {id} is gone");
                return;
            }

            if (gone ? status == "DELETED" : status == "ACTIVE")
            {
                CliOutput.Note($"load balancer {id} is {status}");
                return;
            }

            if (status == "ERROR")
            {
                throw new WaitException($"load balancer {id} is in ERROR (see GET /loadbalancers/{id} and the server log)");
            }

            if (time.GetUtcNow() >= deadline)
            {
                throw new WaitException(string.Create(CultureInfo.InvariantCulture,
                    $"load balancer {id} is still {status ?? "unknown"} after {timeout.TotalSeconds} s (--wait-timeout)"));
            }

            await Task.Delay(Interval, time, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary><c>--wait</c> ended without the status it waited for (exit code 1).</summary>
internal sealed class WaitException(string message) : Exception(message);

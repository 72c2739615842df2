using System.Text.Json.Nodes;

namespace Tether.FunctionalTests.Infrastructure;

/// <summary>Reading a load balancer's stats (<c>GET /loadbalancers/{id}/stats</c>) at a point that does not depend on
/// timing.</summary>
public static class StatsPolling
{
    /// <summary>The stats of load balancer <paramref name="id"/> once no request is in flight to its nodes
    /// (<c>currentConn</c> and <c>currentConnSsl</c> both 0), polled every 20 ms; after 10 s the last read is returned
    /// as it is (so a count that never comes back to 0 fails the caller's assertion, with the stats to show).</summary>
    /// <remarks>A client has the last byte of an answer a moment before Tether ends the request on its side (returns
    /// the node connection to its pool, then counts the end): a read right after an answer may still see it in
    /// flight, more often on a loaded machine.</remarks>
    public static async Task<JsonNode> StatsWhenIdleAsync(this TetherInstance tether, int id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var stats = await tether.GetJsonAsync($"loadbalancers/{id}/stats");
            if ((stats["currentConn"]!.GetValue<long>() == 0 && stats["currentConnSsl"]!.GetValue<long>() == 0) || DateTime.UtcNow > deadline)
            {
                return stats;
            }

            await Task.Delay(20);
        }
    }
}

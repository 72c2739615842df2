using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tether.Management.Api;
using Tether.Management.Storage;

namespace Tether.Management.Endpoints;

/// <summary>
/// <c>GET /v1.0/{account}/audit?marker=&amp;limit=</c> (Tether's addition, issue 11): the account's audit log, every
/// configuration change made through the API, newest first, paged the Rackspace way: <c>limit</c> 1..1000 (default
/// 100), <c>marker</c> the <c>id</c> of the last entry of the previous page (entries with a lower id follow). A bad
/// <c>limit</c> or <c>marker</c> is 400. Only the caller's account's entries are listed.
/// </summary>
internal static class AuditEndpoints
{
    public static void Map(RouteGroupBuilder group, TetherStore store)
    {
        group.MapGet("/audit", (int account, HttpRequest request) =>
        {
            var errors = new List<string>();
            var limit = 100;
            var limitText = request.Query["limit"].ToString();
            if (limitText.Length > 0 && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > 1000))
            {
                errors.Add($"limit: '{limitText}' must be an integer from 1 to 1000");
            }

            long? marker = null;
            var markerText = request.Query["marker"].ToString();
            if (markerText.Length > 0)
            {
                if (long.TryParse(markerText, NumberStyles.None, CultureInfo.InvariantCulture, out var m) && m > 0)
                {
                    marker = m;
                }
                else
                {
                    errors.Add($"marker: '{markerText}' must be the id of an audit entry (a positive integer)");
                }
            }

            if (errors.Count > 0)
            {
                return JsonNodeResult.Error(ApiError.Validation(errors));
            }

            var entries = new JsonArray();
            foreach (var entry in store.ReadAudit(account, marker, limit))
            {
                entries.Add(entry.ToJson());
            }

            return JsonNodeResult.Ok(new JsonObject { ["auditEntries"] = entries });
        });
    }
}

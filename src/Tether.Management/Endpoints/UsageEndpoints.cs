using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tether.Management.Api;
using Tether.Management.Storage;
using Tether.Management.Usage;

namespace Tether.Management.Endpoints;

/// <summary>
/// The usage reports of the Rackspace v1.0 API ("Usage reports": docs.rackspace.com cloud-load-balancers v1
/// api-reference/usage-reports; the service's own code, lbrackspace/atlas-lb <c>UsageResource</c> and
/// <c>LoadBalancersResource</c>), built from the hourly records of <see cref="UsageRecorder"/>. Every answer is 200;
/// transfers are in bytes, times UTC (<c>2026-12-03T10:00:00Z</c>).
/// <list type="bullet">
/// <item><c>GET /loadbalancers/{id}/usage/current</c>: the records that started in the preceding 24 hours,
/// <c>{"loadBalancerUsageRecords":[...],"links":[...]}</c>.</item>
/// <item><c>GET /loadbalancers/{id}/usage?startTime=&amp;endTime=</c>: the records that start within the range; without
/// <c>endTime</c> up to now, without <c>startTime</c> from 90 days before the end. Same shape.</item>
/// <item><c>GET /loadbalancers/usage?startTime=&amp;endTime=</c>: the account's usage, <c>{"accountUsage":
/// {"accountUsageRecords":[{numLoadBalancers,numPublicVips,numServicenetVips,startTime}],"links":[]},
/// "loadBalancerUsages":[{loadBalancerId,loadBalancerName,loadBalancerUsageRecords,links}],"accountId"}</c>; without
/// either date the preceding 24 hours. An account record is written at the start of the range and wherever the counts
/// change (by the hour).</item>
/// <item><c>GET /loadbalancers/billable?startTime=&amp;endTime=</c> (both required): the load balancers with usage in
/// the range, deleted ones included (status <c>DELETED</c>), <c>{"loadBalancers":[{id,name,protocol,port,algorithm,
/// timeout,status,nodeCount,created,updated}],"links":[...]}</c>.</item>
/// </list>
/// The record: <c>{id, averageNumConnections, incomingTransfer, outgoingTransfer, averageNumConnectionsSsl,
/// incomingTransferSsl, outgoingTransferSsl, numVips, numPolls, startTime, endTime, vipType, sslMode, eventType?}</c>.
/// Paging (per load balancer and billable): <c>offset</c> (0 or more, default 0) and <c>limit</c> (1 to 1000, default
/// 500, Rackspace's), with <c>next</c> and <c>previous</c> links. Errors, 400 in the Rackspace error body: a date that is
/// not ISO 8601 (<see cref="UsageDates"/>), a start after the end, a missing date of billable, a bad offset or limit; 404
/// for a load balancer the account does not have and never had (a deleted one's usage stays readable).
/// </summary>
internal static class UsageEndpoints
{
    private const int DefaultLimit = 500;
    private const int MaxLimit = 1000;
    private static readonly TimeSpan HistoryDefault = TimeSpan.FromDays(90);

    public static void Map(RouteGroupBuilder group, LoadBalancerService service, TetherStore store, TimeProvider time)
    {
        group.MapGet("/loadbalancers/{id:int}/usage/current", (int account, int id, HttpRequest request) =>
        {
            if (!Known(service, store, account, id))
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            var page = ReadPage(request);
            if (page.Error is { } pageError)
            {
                return JsonNodeResult.Error(pageError);
            }

            var now = time.GetUtcNow();
            var records = store.ReadUsage(account, id, now.AddDays(-1), now, page.Offset!.Value, page.Limit + 1);
            return JsonNodeResult.Ok(RecordsPage(request, records, page.Offset.Value, page.Limit));
        });

        group.MapGet("/loadbalancers/{id:int}/usage", (int account, int id, HttpRequest request) =>
        {
            if (!Known(service, store, account, id))
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            var range = ReadRange(request, time.GetUtcNow(), required: false, HistoryDefault);
            if (range.Error is { } error)
            {
                return JsonNodeResult.Error(error);
            }

            var page = ReadPage(request);
            if (page.Error is { } pageError)
            {
                return JsonNodeResult.Error(pageError);
            }

            var records = store.ReadUsage(account, id, range.Start, range.End, page.Offset!.Value, page.Limit + 1);
            return JsonNodeResult.Ok(RecordsPage(request, records, page.Offset.Value, page.Limit));
        });

        group.MapGet("/loadbalancers/usage", (int account, HttpRequest request) =>
        {
            var now = time.GetUtcNow();
            var neither = !request.Query.ContainsKey("startTime") && !request.Query.ContainsKey("endTime");
            var range = neither ? (Start: now.AddDays(-1), End: now, Error: null) : ReadRange(request, now, required: false, HistoryDefault);
            if (range.Error is { } error)
            {
                return JsonNodeResult.Error(error);
            }

            var records = store.ReadUsage(account, null, range.Start, range.End, 0, int.MaxValue);
            var names = new Dictionary<int, string>();
            foreach (var stored in store.ReadUsageLoadBalancers(account))
            {
                names[stored.Id] = JsonNode.Parse(stored.Json)?["name"]?.GetValue<string>() ?? "";
            }

            var usages = new JsonArray();
            JsonArray? current = null;
            var currentId = 0;
            foreach (var record in records)
            {
                if (current is null || record.LoadBalancerId != currentId)
                {
                    currentId = record.LoadBalancerId;
                    current = [];
                    usages.Add(new JsonObject
                    {
                        ["loadBalancerId"] = currentId,
                        ["loadBalancerName"] = service.Find(account, currentId)?.Name ?? names.GetValueOrDefault(currentId, ""),
                        ["loadBalancerUsageRecords"] = current,
                        ["links"] = new JsonArray(),
                    });
                }

                current.Add(Record(record));
            }

            return JsonNodeResult.Ok(new JsonObject
            {
                ["accountUsage"] = new JsonObject
                {
                    ["accountUsageRecords"] = AccountRecords(records, range.Start, range.End),
                    ["links"] = new JsonArray(),
                },
                ["loadBalancerUsages"] = usages,
                ["accountId"] = account,
            });
        });

        group.MapGet("/loadbalancers/billable", (int account, HttpRequest request) =>
        {
            var range = ReadRange(request, time.GetUtcNow(), required: true, HistoryDefault);
            if (range.Error is { } error)
            {
                return JsonNodeResult.Error(error);
            }

            var page = ReadPage(request);
            if (page.Error is { } pageError)
            {
                return JsonNodeResult.Error(pageError);
            }

            var found = store.ReadBillable(account, range.Start, range.End, page.Offset!.Value, page.Limit + 1);
            var loadBalancers = new JsonArray();
            for (var i = 0; i < found.Count && i < page.Limit; i++)
            {
                // The live load balancer as it is now; a deleted one as it was when it went, with status DELETED.
                var live = service.Find(account, found[i].Id);
                loadBalancers.Add(live is null ? JsonNode.Parse(found[i].Json) : JsonNode.Parse(UsageRecorder.Description(live)));
            }

            return JsonNodeResult.Ok(new JsonObject
            {
                ["loadBalancers"] = loadBalancers,
                ["links"] = Links(request, page.Offset.Value, page.Limit, found.Count > page.Limit),
            });
        });
    }

    /// <summary>A load balancer of the account, live or deleted with usage kept.</summary>
    private static bool Known(LoadBalancerService service, TetherStore store, int account, int id) =>
        service.Find(account, id) is not null || store.HasUsage(account, id);

    /// <summary>One record as Rackspace writes it (field order of the reference's example); <c>eventType</c> only when
    /// the record has one.</summary>
    public static JsonObject Record(UsageRecord record)
    {
        var body = new JsonObject
        {
            ["id"] = record.Id,
            ["averageNumConnections"] = record.AverageConnections,
            ["incomingTransfer"] = record.Incoming,
            ["outgoingTransfer"] = record.Outgoing,
            ["averageNumConnectionsSsl"] = record.AverageConnectionsSsl,
            ["incomingTransferSsl"] = record.IncomingSsl,
            ["outgoingTransferSsl"] = record.OutgoingSsl,
            ["numVips"] = record.Vips,
            ["numPolls"] = record.Polls,
            ["startTime"] = Format(record.Start),
            ["endTime"] = Format(record.End),
            ["vipType"] = record.VipType,
            ["sslMode"] = record.SslMode,
        };
        if (record.EventType is { } eventType)
        {
            body["eventType"] = eventType;
        }

        return body;
    }

    private static JsonObject RecordsPage(HttpRequest request, List<UsageRecord> records, int offset, int limit)
    {
        var array = new JsonArray();
        for (var i = 0; i < records.Count && i < limit; i++)
        {
            array.Add(Record(records[i]));
        }

        return new JsonObject
        {
            ["loadBalancerUsageRecords"] = array,
            ["links"] = Links(request, offset, limit, records.Count > limit),
        };
    }

    /// <summary>The account records: the numbers of load balancers and of public and ServiceNet virtual IPs with
    /// usage, at the start of the range and at each hour where they change (at the hour's first record; 0 from the
    /// hour after the last hour with usage).</summary>
    internal static JsonArray AccountRecords(List<UsageRecord> records, DateTimeOffset start, DateTimeOffset end)
    {
        var hours = new SortedDictionary<DateTimeOffset, Dictionary<int, UsageRecord>>();
        foreach (var record in records)
        {
            if (record.EventType == UsageNames.DeleteLoadBalancer)
            {
                continue;
            }

            var hour = HourStart(record.Start);
            if (!hours.TryGetValue(hour, out var byLoadBalancer))
            {
                hours[hour] = byLoadBalancer = [];
            }

            byLoadBalancer[record.LoadBalancerId] = record;
        }

        var result = new JsonArray();
        (int, int, int)? previous = null;
        void Emit(DateTimeOffset at, (int LoadBalancers, int Public, int ServiceNet) counts)
        {
            if (previous == counts || at > end)
            {
                return;
            }

            previous = counts;
            result.Add(new JsonObject
            {
                ["numLoadBalancers"] = counts.LoadBalancers,
                ["numPublicVips"] = counts.Public,
                ["numServicenetVips"] = counts.ServiceNet,
                ["startTime"] = Format(at),
            });
        }

        (int, int, int) Counts(DateTimeOffset hour)
        {
            if (!hours.TryGetValue(hour, out var byLoadBalancer))
            {
                return (0, 0, 0);
            }

            int publicVips = 0, serviceNetVips = 0;
            foreach (var record in byLoadBalancer.Values)
            {
                if (record.VipType == UsageNames.ServiceNet)
                {
                    serviceNetVips += record.Vips;
                }
                else
                {
                    publicVips += record.Vips;
                }
            }

            return (byLoadBalancer.Count, publicVips, serviceNetVips);
        }

        var last = HourStart(start);
        Emit(start, Counts(last));
        foreach (var hour in hours.Keys)
        {
            if (hour <= last)
            {
                continue;
            }

            if (hour > last.AddHours(1))
            {
                Emit(last.AddHours(1), (0, 0, 0));
            }

            // At the first record of the hour: a load balancer created at 10:58:20 counts from 10:58:20, as Rackspace shows.
            var first = hour.AddHours(1);
            foreach (var record in hours[hour].Values)
            {
                first = record.Start < first ? record.Start : first;
            }

            Emit(first, Counts(hour));
            last = hour;
        }

        return result;
    }

    private static (DateTimeOffset Start, DateTimeOffset End, ApiError? Error) ReadRange(HttpRequest request, DateTimeOffset now, bool required, TimeSpan history)
    {
        var hasStart = request.Query.TryGetValue("startTime", out var startText);
        var hasEnd = request.Query.TryGetValue("endTime", out var endText);
        if (required && (!hasStart || !hasEnd))
        {
            return (default, default, ApiError.BadRequest("'startTime' and 'endTime' query parameters are required",
                "give both, for example ?startTime=2026-12-01&endTime=2026-12-02"));
        }

        var end = now;
        if (hasEnd && !UsageDates.TryParse(endText.ToString(), out end))
        {
            return (default, default, DateError("endTime", endText.ToString()));
        }

        var start = end - history;
        if (hasStart && !UsageDates.TryParse(startText.ToString(), out start))
        {
            return (default, default, DateError("startTime", startText.ToString()));
        }

        if (start > end)
        {
            return (default, default, ApiError.BadRequest(UsageDates.OrderMessage,
                $"startTime {Format(start)} is after endTime {Format(end)}"));
        }

        return (start, end, null);
    }

    private static ApiError DateError(string name, string text) => ApiError.BadRequest(UsageDates.FormatMessage,
        $"{name}: '{text}' is not a date; give a date such as 2026-12-01 or a UTC time such as 2026-12-01T10:00:00Z");

    private static (int? Offset, int Limit, ApiError? Error) ReadPage(HttpRequest request)
    {
        var offset = 0;
        var limit = DefaultLimit;
        var errors = new List<string>();
        var offsetText = request.Query["offset"].ToString();
        if (request.Query.ContainsKey("offset") && (!int.TryParse(offsetText, NumberStyles.None, CultureInfo.InvariantCulture, out offset)))
        {
            errors.Add($"offset: '{offsetText}' must be an integer, 0 or more");
        }

        var limitText = request.Query["limit"].ToString();
        if (request.Query.ContainsKey("limit") && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxLimit))
        {
            errors.Add($"limit: '{limitText}' must be an integer from 1 to {MaxLimit}");
        }

        return errors.Count > 0 ? (null, 0, ApiError.Validation(errors)) : (offset, limit, null);
    }

    /// <summary>Rackspace's paging links: <c>next</c> when more follow, <c>previous</c> after the first page; each the
    /// request's own URL with <c>offset</c> and <c>limit</c> set.</summary>
    private static JsonArray Links(HttpRequest request, int offset, int limit, bool more)
    {
        var links = new JsonArray();
        if (more)
        {
            links.Add(Link(request, offset + limit, limit, "next"));
        }

        if (offset > 0)
        {
            links.Add(Link(request, Math.Max(0, offset - limit), limit, "previous"));
        }

        return links;
    }

    private static JsonObject Link(HttpRequest request, int offset, int limit, string rel)
    {
        var query = new List<KeyValuePair<string, string>>();
        foreach (var name in (string[])["startTime", "endTime"])
        {
            if (request.Query.TryGetValue(name, out var value))
            {
                query.Add(new(name, value.ToString()));
            }
        }

        query.Add(new("offset", offset.ToString(CultureInfo.InvariantCulture)));
        query.Add(new("limit", limit.ToString(CultureInfo.InvariantCulture)));
        var url = $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}{new Microsoft.AspNetCore.Http.Extensions.QueryBuilder(query)}";
        return new JsonObject { ["href"] = url, ["rel"] = rel };
    }

    private static string Format(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset HourStart(DateTimeOffset time) =>
        new(time.UtcDateTime.Year, time.UtcDateTime.Month, time.UtcDateTime.Day, time.UtcDateTime.Hour, 0, 0, TimeSpan.Zero);
}

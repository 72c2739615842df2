using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Tether.Core.Model;
using Tether.Management.Api;

namespace Tether.Management.Endpoints;

/// <summary>
/// The query parameters of the Rackspace v1.0 list calls (docs/api.md "GET /loadbalancers", "Pages"): pagination
/// (<c>limit</c>, <c>marker</c>, <c>offset</c>) on every paginated list, and the filters of
/// <c>GET /loadbalancers</c> (<c>status</c>, <c>changes-since</c>, <c>nodeaddress</c>).
/// <para>Sources: Rackspace Cloud Load Balancers v1.0 developer guide, "Paginated collections" and "List load
/// balancers" (rackerlabs/docs-cloud-load-balancers), and the service's own implementation (lbrackspace/atlas-lb
/// <c>LoadBalancersResource.retrieveLoadBalancers</c>, <c>NodesResource.retrieveNodes</c>,
/// <c>LoadBalancerRepository.getLoadbalancersGeneric</c>):</para>
/// <list type="bullet">
/// <item><c>limit</c>: page size, default and maximum 100; a larger value is lowered to 100 ("If a request supplies
/// no limit or one that exceeds the configured default limit, the default is used instead"). 0, a negative or a
/// non-integer value is a 400.</item>
/// <item><c>marker</c>: an id; the page begins WITH the item of that id (<c>id &gt;= marker</c>: "beginning with the
/// load balancer whose id is 1234"; openstack.net's Rackspace provider relies on it and drops the first item). A
/// marker past the end gives an empty list, never a 404.</item>
/// <item><c>offset</c>: items skipped after the marker (default 0).</item>
/// </list>
/// A page that is not the last carries <c>"links":[{"href":...,"rel":"next"}]</c> (absolute URL, the same filters,
/// <c>limit</c> and <c>marker</c> = the id of the next page's first item); a page after the first carries
/// <c>"rel":"previous"</c> the same way. Without a next or previous page there is no <c>links</c> key, so a list that
/// fits one page reads exactly as before. An empty value (<c>?limit=</c>) counts as absent; a parameter given twice
/// is a 400; parameters Tether does not know are ignored, as Rackspace's service ignores them (older SDKs send some,
/// for example openstack.net 1.x's <c>markerId</c>). Errors are 400 in the Rackspace validation body.
/// </summary>
internal static class ListQuery
{
    /// <summary>Default and largest page size (Rackspace: 100).</summary>
    public const int MaxLimit = 100;

    /// <summary>The statuses <c>?status=</c> accepts (Rackspace LoadBalancerStatus; exact, upper case).</summary>
    public static readonly string[] Statuses =
    [
        LoadBalancerStatus.Active, LoadBalancerStatus.Build, LoadBalancerStatus.PendingUpdate,
        LoadBalancerStatus.PendingDelete, LoadBalancerStatus.Suspended, LoadBalancerStatus.Error,
        LoadBalancerStatus.Deleted,
    ];

    private static readonly string[] PageParameters = ["limit", "marker", "offset"];

    /// <summary>Reads <c>limit</c>, <c>marker</c> and <c>offset</c>; adds a message to <paramref name="errors"/> for
    /// each bad one.</summary>
    public static PageRequest ReadPage(HttpRequest request, List<string> errors)
    {
        var limit = MaxLimit;
        if (Single(request, "limit", errors) is { } limitText)
        {
            if (!TryReadCount(limitText, out var value) || value == 0)
            {
                errors.Add($"limit: '{limitText}' is not a page size; give a whole number from 1 to {MaxLimit} (larger values are lowered to {MaxLimit})");
            }
            else
            {
                limit = (int)Math.Min(value, MaxLimit);
            }
        }

        int? marker = null;
        if (Single(request, "marker", errors) is { } markerText)
        {
            if (TryReadCount(markerText, out var value))
            {
                marker = (int)Math.Min(value, int.MaxValue);
            }
            else
            {
                errors.Add($"marker: '{markerText}' is not an id; give the id the page begins with (a whole number)");
            }
        }

        var offset = 0;
        if (Single(request, "offset", errors) is { } offsetText)
        {
            if (TryReadCount(offsetText, out var value))
            {
                offset = (int)Math.Min(value, int.MaxValue);
            }
            else
            {
                errors.Add($"offset: '{offsetText}' is not a count; give the number of items to skip (0 or more)");
            }
        }

        return new PageRequest(limit, marker, offset);
    }

    /// <summary>Reads the filters of <c>GET /loadbalancers</c>; adds a message to <paramref name="errors"/> for each
    /// bad one. <c>status</c>: one of <see cref="Statuses"/> (without it every status but DELETED is listed);
    /// <c>changes-since</c>: ISO 8601 date and time (<c>2026-12-01T00:00:00Z</c>, <c>...T08:07:08-05:00</c>,
    /// <c>...-0500</c>; a <c>+</c> that arrived as a space is read as <c>+</c>), load balancers updated at or after
    /// it; <c>nodeaddress</c>: an IP address (any spelling of it) or a host name (letter case ignored), at most 255
    /// characters.</summary>
    public static LoadBalancerFilter ReadLoadBalancerFilter(HttpRequest request, List<string> errors)
    {
        string? status = null;
        if (Single(request, "status", errors) is { } statusText)
        {
            if (Array.IndexOf(Statuses, statusText) >= 0)
            {
                status = statusText;
            }
            else
            {
                var hint = NameSuggestion.Closest(statusText, Statuses) is { } near ? $"; did you mean {near}?" : "";
                errors.Add($"status: '{statusText}' is not a load balancer status ({string.Join(", ", Statuses)}){hint}");
            }
        }

        DateTimeOffset? since = null;
        if (Single(request, "changes-since", errors) is { } sinceText)
        {
            if (TryReadTime(sinceText, out var time))
            {
                since = time;
            }
            else
            {
                errors.Add($"changes-since: '{sinceText}' is not a date and time; give ISO 8601 (YYYY-MM-DDThh:mm:ss with Z or an offset, for example 2026-12-01T00:00:00Z)");
            }
        }

        string? nodeAddress = null;
        IPAddress? nodeIp = null;
        if (Single(request, "nodeaddress", errors) is { } addressText)
        {
            var trimmed = addressText.Trim();
            if (trimmed.Length == 0 || trimmed.Length > 255)
            {
                errors.Add($"nodeaddress: give the IP address or host name of a node (1 to 255 characters; got {addressText.Length})");
            }
            else
            {
                nodeAddress = trimmed;
                nodeIp = IPAddress.TryParse(trimmed, out var ip) ? ip : null;
            }
        }

        return new LoadBalancerFilter(status, since, nodeAddress, nodeIp);
    }

    /// <summary>The page of <paramref name="items"/> (sorted by id, ascending) that <paramref name="page"/> asks for,
    /// and the markers of the next and previous pages (null when there is none).</summary>
    public static Paged<T> Apply<T>(IReadOnlyList<T> items, Func<T, int> idOf, PageRequest page)
    {
        var start = 0;
        if (page.Marker is { } marker)
        {
            while (start < items.Count && idOf(items[start]) < marker)
            {
                start++;
            }
        }

        start = (int)Math.Min((long)start + page.Offset, items.Count);
        var end = (int)Math.Min((long)start + page.Limit, items.Count);
        var slice = new List<T>(end - start);
        for (var i = start; i < end; i++)
        {
            slice.Add(items[i]);
        }

        int? next = end < items.Count ? idOf(items[end]) : null;
        int? previous = start > 0 ? idOf(items[Math.Max(0, start - page.Limit)]) : null;
        return new Paged<T>(slice, next, previous);
    }

    /// <summary>Adds <c>"links":[{"href","rel":"previous"},{"href","rel":"next"}]</c> to <paramref name="body"/> for
    /// the pages that exist: absolute URLs of this request with its other parameters kept and <c>limit</c>,
    /// <c>marker</c> set (<c>offset</c> dropped). Nothing is added on a single page.</summary>
    public static void AddLinks<T>(JsonObject body, Paged<T> paged, PageRequest page, HttpRequest request)
    {
        if (paged.PreviousMarker is null && paged.NextMarker is null)
        {
            return;
        }

        var links = new JsonArray();
        if (paged.PreviousMarker is { } previous)
        {
            links.Add(Link(request, page.Limit, previous, "previous"));
        }

        if (paged.NextMarker is { } next)
        {
            links.Add(Link(request, page.Limit, next, "next"));
        }

        body["links"] = links;
    }

    private static JsonObject Link(HttpRequest request, int limit, int marker, string rel)
    {
        var query = new List<KeyValuePair<string, string?>>();
        foreach (var (key, values) in request.Query)
        {
            if (Array.IndexOf(PageParameters, key) >= 0)
            {
                continue;
            }

            foreach (var value in values)
            {
                query.Add(new(key, value));
            }
        }

        query.Add(new("limit", limit.ToString(CultureInfo.InvariantCulture)));
        query.Add(new("marker", marker.ToString(CultureInfo.InvariantCulture)));
        var href = string.Concat(request.Scheme, "://", request.Host.ToUriComponent(), request.PathBase.ToUriComponent(),
            request.Path.ToUriComponent(), QueryString.Create(query).ToUriComponent());
        return new JsonObject { ["href"] = href, ["rel"] = rel };
    }

    /// <summary>The one value of <paramref name="name"/>; null when absent or empty; an error when given twice.</summary>
    private static string? Single(HttpRequest request, string name, List<string> errors)
    {
        var values = request.Query[name];
        if (values.Count > 1)
        {
            errors.Add($"{name}: given {values.Count} times; give it once");
            return null;
        }

        return string.IsNullOrEmpty(values.ToString()) ? null : values.ToString();
    }

    /// <summary>ASCII digits only (no sign, no spaces); a value past <see cref="long"/> reads as long.MaxValue.</summary>
    private static bool TryReadCount(string text, out long value)
    {
        value = 0;
        foreach (var c in text)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }

            value = value > (long.MaxValue - 9) / 10 ? long.MaxValue : value * 10 + (c - '0');
        }

        return text.Length > 0;
    }

    /// <summary>ISO 8601 date and time with Z or an offset (<c>+hh:mm</c>, <c>+hhmm</c>, <c>+hh</c>), whole or
    /// fractional seconds (Rackspace "Date and time format": <c>YYYY-MM-DD'T'hh:mm:ssZ</c>). A space where the
    /// offset sign belongs is a <c>+</c> decoded by form-style query decoding.</summary>
    internal static bool TryReadTime(string text, out DateTimeOffset time)
    {
        time = default;
        // Date and time part: yyyy-MM-ddTHH:mm:ss, 19 characters, then optional fraction, then the zone.
        if (text.Length < 20 || text[10] is not ('T' or 't'))
        {
            return false;
        }

        var zoneAt = 19;
        if (text[zoneAt] == '.')
        {
            zoneAt++;
            while (zoneAt < text.Length && char.IsAsciiDigit(text[zoneAt]))
            {
                zoneAt++;
            }
        }

        if (zoneAt >= text.Length)
        {
            return false;
        }

        var zone = text[zoneAt..];
        if (zone is not ("Z" or "z"))
        {
            if (zone[0] == ' ')
            {
                zone = "+" + zone[1..];
            }

            // +hh, +hhmm, +hh:mm
            if (zone.Length == 3)
            {
                zone += ":00";
            }
            else if (zone.Length == 5 && zone[3] != ':')
            {
                zone = zone[..3] + ":" + zone[3..];
            }

            if (zone.Length != 6 || zone[0] is not ('+' or '-') || zone[3] != ':')
            {
                return false;
            }
        }
        else
        {
            zone = "Z";
        }

        var normalised = string.Concat(text.AsSpan(0, 10), "T", text.AsSpan(11, zoneAt - 11), zone);
        string[] formats = ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"];
        return DateTimeOffset.TryParseExact(normalised, formats, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal, out time);
    }
}

/// <summary>A page asked for: size (1 to 100), the id it begins with (inclusive) and items skipped after it.</summary>
internal readonly record struct PageRequest(int Limit, int? Marker, int Offset);

/// <summary>One page of a list and the markers of its neighbours (null when none).</summary>
internal sealed record Paged<T>(IReadOnlyList<T> Items, int? NextMarker, int? PreviousMarker);

/// <summary>The filters of <c>GET /loadbalancers</c> (null: not given).</summary>
internal sealed record LoadBalancerFilter(string? Status, DateTimeOffset? ChangesSince, string? NodeAddress, IPAddress? NodeIp)
{
    /// <summary>Whether <paramref name="config"/> passes every filter given; without <c>status</c>, DELETED ones are
    /// left out (Rackspace).</summary>
    public bool Matches(LoadBalancerConfig config)
    {
        if (Status is null ? config.Status == LoadBalancerStatus.Deleted : config.Status != Status)
        {
            return false;
        }

        if (ChangesSince is { } since && config.Updated < since)
        {
            return false;
        }

        if (NodeAddress is not null && !HasNode(config))
        {
            return false;
        }

        return true;
    }

    private bool HasNode(LoadBalancerConfig config)
    {
        foreach (var node in config.Nodes)
        {
            if (NodeIp is not null
                ? IPAddress.TryParse(node.Address, out var ip) && ip.Equals(NodeIp)
                : string.Equals(node.Address, NodeAddress, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>The list answers that read <see cref="ListQuery"/> parameters.</summary>
internal static class ListResponses
{
    /// <summary>
    /// <c>GET /loadbalancers</c>: <c>{"loadBalancers":[summary...],"links"?:[...]}</c> with the account's load
    /// balancers by id, filtered by <c>status</c>, <c>changes-since</c> and <c>nodeaddress</c> and paginated. With
    /// <c>nodeaddress</c> each item has Rackspace's reduced shape <c>{"id","name","status"}</c> ("returns a list
    /// including the ID, name, and status of all load balancers attached"; atlas-lb maps it with
    /// <c>LB_NAME_ID_STATUS</c>). Tether forgets a deleted load balancer, so <c>status=DELETED</c> and
    /// <c>changes-since</c> never list deleted ones. 400 for a bad parameter.
    /// </summary>
    public static IResult LoadBalancers(LoadBalancerService service, int account, HttpRequest request)
    {
        var errors = new List<string>();
        var filter = ListQuery.ReadLoadBalancerFilter(request, errors);
        var page = ListQuery.ReadPage(request, errors);
        if (errors.Count > 0)
        {
            return JsonNodeResult.Error(ApiError.Validation(errors));
        }

        var matching = new List<LoadBalancerConfig>();
        foreach (var config in service.List(account))
        {
            if (filter.Matches(config))
            {
                matching.Add(config);
            }
        }

        var paged = ListQuery.Apply(matching, c => c.Id, page);
        var list = new JsonArray();
        foreach (var config in paged.Items)
        {
            list.Add(filter.NodeAddress is null
                ? Representations.LoadBalancerSummary(config)
                : new JsonObject { ["id"] = config.Id, ["name"] = config.Name, ["status"] = config.Status });
        }

        var body = new JsonObject { ["loadBalancers"] = list };
        ListQuery.AddLinks(body, paged, page, request);
        return JsonNodeResult.Ok(body);
    }
}

using Microsoft.AspNetCore.Http;
using Tether.Management.Endpoints;

namespace Tether.Management.Tests.Endpoints;

/// <summary>The Rackspace v1.0 list parameters: <c>status</c>, <c>changes-since</c>, <c>nodeaddress</c> on
/// <c>GET /loadbalancers</c>, and <c>limit</c>/<c>marker</c>/<c>offset</c> with <c>links</c> on the load balancer,
/// node, virtual IP and access lists (<see cref="ListQuery"/>).</summary>
public sealed class ListQueryTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    private static string Node(string address) => $$"""{"address":"{{address}}","port":80,"condition":"ENABLED"}""";

    private static int[] Ids(ApiResponse response, string key) =>
        [.. response.Body![key]!.AsArray().Select(item => item!["id"]!.GetValue<int>())];

    private static Dictionary<string, string> Links(ApiResponse response) =>
        response.Body!["links"] is JsonArray links
            ? links.ToDictionary(l => l!["rel"]!.GetValue<string>(), l => l!["href"]!.GetValue<string>())
            : [];

    /// <summary>Follows an absolute link href with the account's token (the path holds /v1.0/{account}).</summary>
    private async Task<ApiResponse> FollowAsync(ApiClient api, string href)
    {
        Assert.StartsWith(_host.BaseAddress.GetLeftPart(UriPartial.Authority) + $"/v1.0/{api.Account}/", href, StringComparison.Ordinal);
        var pathAndQuery = new Uri(href).PathAndQuery;
        return await api.GetAsync(pathAndQuery[$"/v1.0/{api.Account}".Length..]);
    }

    private async Task<(ApiClient Api, int[] Ids)> SevenLoadBalancersAsync()
    {
        var api = _host.NewAccount();
        var ids = new int[7];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = await api.CreateLoadBalancerAsync();
        }

        return (api, ids);
    }

    /// <summary>Walks a 7-item list with limit 3: pages of 3, 3 and 1; next and previous links with limit=3 and
    /// marker = the first id of the page they lead to; no next link on the last page.</summary>
    private async Task WalkSevenAsync(ApiClient api, string path, string key, int[] ids)
    {
        var first = await api.GetAsync(path + "?limit=3");
        Assert.Equal(200, first.Status);
        Assert.Equal(ids[..3], Ids(first, key));
        var links = Links(first);
        Assert.Equal(["next"], links.Keys.ToArray());
        Assert.EndsWith($"{path}?limit=3&marker={ids[3]}", links["next"], StringComparison.Ordinal);

        var second = await FollowAsync(api, links["next"]);
        Assert.Equal(200, second.Status);
        Assert.Equal(ids[3..6], Ids(second, key));
        links = Links(second);
        Assert.Equal(["previous", "next"], links.Keys.ToArray());
        Assert.EndsWith($"{path}?limit=3&marker={ids[0]}", links["previous"], StringComparison.Ordinal);
        Assert.EndsWith($"{path}?limit=3&marker={ids[6]}", links["next"], StringComparison.Ordinal);

        var last = await FollowAsync(api, links["next"]);
        Assert.Equal(200, last.Status);
        Assert.Equal(ids[6..], Ids(last, key));
        links = Links(last);
        Assert.Equal(["previous"], links.Keys.ToArray());
        Assert.EndsWith($"{path}?limit=3&marker={ids[3]}", links["previous"], StringComparison.Ordinal);

        var back = await FollowAsync(api, links["previous"]);
        Assert.Equal(ids[3..6], Ids(back, key));
    }

    [Fact]
    public async Task ListLoadBalancers_Limit3Over7_WalksThreePagesByLinks()
    {
        var (api, ids) = await SevenLoadBalancersAsync();

        await WalkSevenAsync(api, "/loadbalancers", "loadBalancers", ids);
    }

    [Fact]
    public async Task ListNodes_Limit3Over7_WalksThreePagesByLinks()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync(nodes: "[" + string.Join(",", Enumerable.Range(1, 7).Select(i => Node($"10.2.0.{i}"))) + "]");
        var ids = Ids(await api.GetAsync($"/loadbalancers/{id}/nodes"), "nodes");
        Assert.Equal(7, ids.Length);

        await WalkSevenAsync(api, $"/loadbalancers/{id}/nodes", "nodes", ids);
    }

    [Fact]
    public async Task ListAccessList_Limit3Over7_WalksThreePagesByLinks()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var items = string.Join(",", Enumerable.Range(1, 7).Select(i => $$"""{"address":"192.0.2.{{i}}","type":"DENY"}"""));
        Assert.Equal(202, (await api.PostAsync($"/loadbalancers/{id}/accesslist", "{\"accessList\":[" + items + "]}")).Status);
        var ids = Ids(await api.GetAsync($"/loadbalancers/{id}/accesslist"), "accessList");
        Assert.Equal(7, ids.Length);

        await WalkSevenAsync(api, $"/loadbalancers/{id}/accesslist", "accessList", ids);
    }

    [Fact]
    public async Task ListVirtualIps_Limit1OverTwo_WalksTwoPagesByLinksAndRefusesBadParameters()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        Assert.Equal(202, (await api.PostAsync($"/loadbalancers/{id}/virtualips", """{"ipVersion":"IPV6","type":"PUBLIC"}""")).Status);
        var path = $"/loadbalancers/{id}/virtualips";
        var all = await api.GetAsync(path);
        var ids = Ids(all, "virtualIps");
        Assert.Equal(2, ids.Length);
        Assert.Null(all.Body!["links"]);

        var first = await api.GetAsync(path + "?limit=1");
        Assert.Equal(ids[..1], Ids(first, "virtualIps"));
        var links = Links(first);
        Assert.Equal(["next"], links.Keys.ToArray());
        Assert.EndsWith($"{path}?limit=1&marker={ids[1]}", links["next"], StringComparison.Ordinal);

        var second = await FollowAsync(api, links["next"]);
        Assert.Equal(ids[1..], Ids(second, "virtualIps"));
        Assert.Equal(["previous"], Links(second).Keys.ToArray());
        Assert.Equal(["ipv6"], second.Body!["virtualIps"]!.AsArray().Select(v => v!["ipVersion"]!.GetValue<string>().ToLowerInvariant()).ToArray());
        Assert.Equal(ids[1..], Ids(await api.GetAsync(path + "?offset=1"), "virtualIps"));
        Assert.Empty(Ids(await api.GetAsync(path + $"?marker={ids[1] + 100}"), "virtualIps"));

        var bad = await api.GetAsync(path + "?limit=0&marker=x");
        Assert.Equal(400, bad.Status);
        Assert.Contains("limit: '0' is not a page size", bad.Text, StringComparison.Ordinal);
        Assert.Contains("marker: 'x' is not an id", bad.Text, StringComparison.Ordinal);
        Assert.Equal(404, (await api.GetAsync("/loadbalancers/999999/virtualips?limit=0")).Status);
    }

    [Fact]
    public async Task ListLoadBalancers_WithoutPageParameters_HasNoLinksKey()
    {
        var (api, _) = await SevenLoadBalancersAsync();

        var response = await api.GetAsync("/loadbalancers");

        Assert.Equal(7, response.Body!["loadBalancers"]!.AsArray().Count);
        Assert.Null(response.Body!["links"]);
    }

    [Fact]
    public async Task ListLoadBalancers_Marker_BeginsWithThatId()
    {
        var (api, ids) = await SevenLoadBalancersAsync();

        var response = await api.GetAsync($"/loadbalancers?marker={ids[2]}&limit=2");

        Assert.Equal(ids[2..4], Ids(response, "loadBalancers"));
    }

    [Fact]
    public async Task ListLoadBalancers_MarkerBetweenIds_BeginsWithTheNextId()
    {
        var (api, ids) = await SevenLoadBalancersAsync();
        Assert.Equal(202, (await api.DeleteAsync($"/loadbalancers/{ids[2]}")).Status);

        var response = await api.GetAsync($"/loadbalancers?marker={ids[2]}&limit=2");

        Assert.Equal(ids[3..5], Ids(response, "loadBalancers"));
    }

    [Fact]
    public async Task ListLoadBalancers_MarkerPastTheEnd_Returns200WithAnEmptyList()
    {
        var (api, _) = await SevenLoadBalancersAsync();

        var response = await api.GetAsync("/loadbalancers?marker=2147483647");

        Assert.Equal(200, response.Status);
        Assert.Empty(response.Body!["loadBalancers"]!.AsArray());
    }

    [Fact]
    public async Task ListLoadBalancers_Offset_SkipsItemsAfterTheMarker()
    {
        var (api, ids) = await SevenLoadBalancersAsync();

        var response = await api.GetAsync($"/loadbalancers?marker={ids[1]}&offset=2&limit=2");

        Assert.Equal(ids[3..5], Ids(response, "loadBalancers"));
        Assert.EndsWith($"marker={ids[5]}", Links(response)["next"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListLoadBalancers_LimitOverTheMaximum_IsLoweredTo100NotRefused()
    {
        var (api, ids) = await SevenLoadBalancersAsync();

        var response = await api.GetAsync("/loadbalancers?limit=1000");

        Assert.Equal(200, response.Status);
        Assert.Equal(ids, Ids(response, "loadBalancers"));
    }

    [Theory]
    [InlineData("limit=1000", 100)]
    [InlineData("limit=99999999999999999999999", 100)]
    [InlineData("limit=100", 100)]
    [InlineData("limit=7", 7)]
    [InlineData("", 100)]
    [InlineData("limit=", 100)]
    public void ReadPage_Limit_DefaultsAndCapsAt100(string query, int expected)
    {
        var context = new DefaultHttpContext();
        context.Request.QueryString = new QueryString("?" + query);
        var errors = new List<string>();

        var page = ListQuery.ReadPage(context.Request, errors);

        Assert.Empty(errors);
        Assert.Equal(expected, page.Limit);
    }

    [Fact]
    public async Task ListLoadBalancers_PageLinks_KeepTheFilters()
    {
        var (api, ids) = await SevenLoadBalancersAsync();

        var response = await api.GetAsync("/loadbalancers?status=ACTIVE&limit=3");

        Assert.EndsWith($"/loadbalancers?status=ACTIVE&limit=3&marker={ids[3]}", Links(response)["next"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListLoadBalancers_UnknownParameters_AreIgnored()
    {
        var (api, ids) = await SevenLoadBalancersAsync();

        var response = await api.GetAsync("/loadbalancers?markerId=5&format=json&page=2");

        Assert.Equal(200, response.Status);
        Assert.Equal(ids, Ids(response, "loadBalancers"));
    }

    [Fact]
    public async Task ListLoadBalancers_Status_ListsOnlyThatStatus()
    {
        var (api, ids) = await SevenLoadBalancersAsync();

        Assert.Equal(ids, Ids(await api.GetAsync("/loadbalancers?status=ACTIVE"), "loadBalancers"));
        Assert.Empty(Ids(await api.GetAsync("/loadbalancers?status=SUSPENDED"), "loadBalancers"));
        Assert.Empty(Ids(await api.GetAsync("/loadbalancers?status=ERROR"), "loadBalancers"));
        // Tether forgets deleted load balancers: DELETED is a valid filter that lists none, even after a delete.
        Assert.Equal(202, (await api.DeleteAsync($"/loadbalancers/{ids[0]}")).Status);
        var deleted = await api.GetAsync("/loadbalancers?status=DELETED");
        Assert.Equal(200, deleted.Status);
        Assert.Empty(Ids(deleted, "loadBalancers"));
    }

    [Fact]
    public async Task ListLoadBalancers_StatusError_ListsTheLoadBalancerThatFailedToStart()
    {
        using var directory = new TempDirectory();
        int failing, working, port;
        ApiClient api;
        await using (var host = await ApiHost.StartAsync(directory.Path))
        {
            api = host.NewAccount();
            port = ApiHost.NextPort();
            failing = await api.CreateLoadBalancerAsync(port: port);
            working = await api.CreateLoadBalancerAsync();
        }

        var plane = new RecordingDataPlane();
        plane.FailBind(port);
        await using (var host = await ApiHost.StartAsync(directory.Path, dataPlane: plane))
        {
            var again = host.Client(api.Account, api.Token);

            Assert.Equal([failing], Ids(await again.GetAsync("/loadbalancers?status=ERROR"), "loadBalancers"));
            Assert.Equal([working], Ids(await again.GetAsync("/loadbalancers?status=ACTIVE"), "loadBalancers"));
            Assert.Equal([failing, working], Ids(await again.GetAsync("/loadbalancers"), "loadBalancers"));
        }
    }

    [Fact]
    public async Task ListLoadBalancers_ChangesSince_ListsThoseUpdatedAtOrAfterIt()
    {
        var api = _host.NewAccount();
        var older = await api.CreateLoadBalancerAsync();
        _host.Time.Advance(TimeSpan.FromHours(2));
        var between = _host.Time.GetUtcNow().AddHours(-1);
        var newer = await api.CreateLoadBalancerAsync();
        var since = between.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal([newer], Ids(await api.GetAsync($"/loadbalancers?changes-since={since}"), "loadBalancers"));
        var newerUpdated = (await api.GetAsync($"/loadbalancers/{newer}")).Body!["loadBalancer"]!["updated"]!["time"]!.GetValue<string>();
        Assert.Equal([newer], Ids(await api.GetAsync($"/loadbalancers?changes-since={newerUpdated}"), "loadBalancers"));

        _host.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{older}", """{"loadBalancer":{"name":"renamed"}}""")).Status);

        Assert.Equal([older, newer], Ids(await api.GetAsync($"/loadbalancers?changes-since={since}"), "loadBalancers"));
        var afterAll = _host.Time.GetUtcNow().AddSeconds(1).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Empty(Ids(await api.GetAsync($"/loadbalancers?changes-since={afterAll}"), "loadBalancers"));
    }

    [Theory]
    [InlineData("2026-05-19T08:07:08Z", "2026-05-19T08:07:08+00:00")]
    [InlineData("2026-05-19T08:07:08-05:00", "2026-05-19T13:07:08+00:00")]
    [InlineData("2026-05-19T08:07:08-0500", "2026-05-19T13:07:08+00:00")]
    [InlineData("2026-05-19T08:07:08 01:00", "2026-05-19T07:07:08+00:00")]
    [InlineData("2026-05-19T08:07:08.250Z", "2026-05-19T08:07:08.25+00:00")]
    [InlineData("2026-05-19T08:07:08+02", "2026-05-19T06:07:08+00:00")]
    public void TryReadTime_Iso8601Forms_AreRead(string text, string expected)
    {
        Assert.True(ListQuery.TryReadTime(text, out var time));
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), time);
    }

    [Theory]
    [InlineData("2026-05-19")]
    [InlineData("2026-05-19T08:07:08")]
    [InlineData("2026-13-19T08:07:08Z")]
    [InlineData("yesterday")]
    [InlineData("2026-05-19T08:07:08+5")]
    public void TryReadTime_OtherText_IsRefused(string text) => Assert.False(ListQuery.TryReadTime(text, out _));

    [Fact]
    public async Task ListLoadBalancers_NodeAddress_ListsTheLoadBalancersWithThatNodeInTheReducedShape()
    {
        var api = _host.NewAccount();
        var withNode = await api.CreateLoadBalancerAsync(nodes: "[" + Node("10.1.1.1") + "," + Node("10.1.1.2") + "]");
        await api.CreateLoadBalancerAsync(nodes: "[" + Node("10.1.1.2") + "]");
        var withIpv6 = await api.CreateLoadBalancerAsync(nodes: "[" + Node("2001:db8::1") + "]");
        await _host.NewAccount().CreateLoadBalancerAsync(nodes: "[" + Node("10.1.1.1") + "]");

        var response = await api.GetAsync("/loadbalancers?nodeaddress=10.1.1.1");

        Assert.Equal(200, response.Status);
        Assert.Equal($$"""{"loadBalancers":[{"id":{{withNode}},"name":"lb","status":"ACTIVE"}]}""", response.Text);
        Assert.Equal([withIpv6], Ids(await api.GetAsync("/loadbalancers?nodeaddress=2001:DB8:0:0::1"), "loadBalancers"));
        Assert.Empty(Ids(await api.GetAsync("/loadbalancers?nodeaddress=10.1.1.9"), "loadBalancers"));
        Assert.Empty(Ids(await api.GetAsync("/loadbalancers?nodeaddress=backend.example.com"), "loadBalancers"));
    }

    [Theory]
    [InlineData("limit=0", "limit: '0'")]
    [InlineData("limit=-1", "limit: '-1'")]
    [InlineData("limit=abc", "limit: 'abc'")]
    [InlineData("limit=2.5", "limit: '2.5'")]
    [InlineData("limit=1&limit=2", "limit: given 2 times")]
    [InlineData("marker=first", "marker: 'first'")]
    [InlineData("offset=-3", "offset: '-3'")]
    [InlineData("status=FOO", "status: 'FOO' is not a load balancer status")]
    [InlineData("status=active", "did you mean ACTIVE?")]
    [InlineData("changes-since=yesterday", "changes-since: 'yesterday'")]
    [InlineData("changes-since=2026-12-01", "changes-since: '2026-12-01'")]
    [InlineData("nodeaddress=%20", "nodeaddress: give the IP address or host name")]
    public async Task ListLoadBalancers_BadParameter_Returns400WithTheReason(string query, string reason)
    {
        var api = _host.NewAccount();
        await api.CreateLoadBalancerAsync();

        var response = await api.GetAsync("/loadbalancers?" + query);

        Assert.Equal(400, response.Status);
        Assert.Equal("Validation Failure", response.Body!["message"]!.GetValue<string>());
        Assert.Equal(400, response.Body!["code"]!.GetValue<int>());
        Assert.Contains(response.Messages, m => m.Contains(reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ListLoadBalancers_SeveralBadParameters_Returns400WithEveryReason()
    {
        var response = await _host.NewAccount().GetAsync("/loadbalancers?limit=0&status=FOO&changes-since=x");

        Assert.Equal(400, response.Status);
        Assert.Equal(3, response.Messages.Count);
    }

    [Theory]
    [InlineData("nodes")]
    [InlineData("accesslist")]
    public async Task ListChildren_BadLimit_Returns400(string list)
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var response = await api.GetAsync($"/loadbalancers/{id}/{list}?limit=0");

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("limit: '0'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ListNodes_UnknownLoadBalancerWithPageParameters_Returns404()
    {
        var response = await _host.NewAccount().GetAsync("/loadbalancers/999999/nodes?limit=3");

        Assert.Equal(404, response.Status);
    }
}

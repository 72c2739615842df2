using Microsoft.Extensions.DependencyInjection;
using Tether.Management.Usage;

namespace Tether.Management.Tests.Endpoints;

/// <summary>The usage report routes (Rackspace v1.0 "Usage reports"): shapes, dates as Rackspace reads them, 400s with
/// the reason, 404 for another account's load balancer, paging.</summary>
public sealed class UsageEndpointsTests : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _directory = new();
    private ApiHost _host = null!;

    public async Task InitializeAsync() =>
        _host = await ApiHost.StartAsync(_directory.Path, o => o.UsageBackgroundPolling = false, new RuntimeDataPlane());

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public void Dispose() => _directory.Dispose();

    private void Poll() => _host.Services.GetRequiredService<UsageRecorder>().Poll();

    [Fact]
    public async Task Current_NewLoadBalancer_RecordHasRackspaceFieldsInOrder()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        Poll();

        var response = await api.GetAsync($"/loadbalancers/{id}/usage/current");
        Assert.Equal(200, response.Status);
        Assert.Equal(["loadBalancerUsageRecords", "links"], response.Body!.AsObject().Select(p => p.Key));
        Assert.Empty(response.Body["links"]!.AsArray());
        var record = Assert.Single(response.Body["loadBalancerUsageRecords"]!.AsArray())!;
        Assert.Equal(
            ["id", "averageNumConnections", "incomingTransfer", "outgoingTransfer", "averageNumConnectionsSsl", "incomingTransferSsl",
             "outgoingTransferSsl", "numVips", "numPolls", "startTime", "endTime", "vipType", "sslMode", "eventType"],
            record.AsObject().Select(p => p.Key));
        Assert.True(record["id"]!.GetValue<long>() > 0);
    }

    [Fact]
    public async Task Current_NoPollYet_EmptyList()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var response = await api.GetAsync($"/loadbalancers/{id}/usage/current");
        Assert.Equal(200, response.Status);
        Assert.Empty(response.Body!["loadBalancerUsageRecords"]!.AsArray());
    }

    [Theory]
    [InlineData("/usage/current")]
    [InlineData("/usage")]
    [InlineData("/usage?startTime=2026-01-01")]
    public async Task Usage_AnotherAccountsOrUnknownLoadBalancer_Returns404(string path)
    {
        var owner = _host.NewAccount();
        var id = await owner.CreateLoadBalancerAsync();
        Poll();
        var other = _host.NewAccount();

        var response = await other.GetAsync($"/loadbalancers/{id}{path}");
        Assert.Equal(404, response.Status);
        Assert.Equal("Load balancer not found", response.Body!["message"]!.GetValue<string>());
        Assert.Equal(404, (await owner.GetAsync($"/loadbalancers/999999{path}")).Status);
    }

    [Theory]
    [InlineData("2026-01-01")]
    [InlineData("2026-1-1")]
    [InlineData("2026-01-01T")]
    [InlineData("2026-01-01T00")]
    [InlineData("2026-01-01T00:00")]
    [InlineData("2026-01-01T00:00:00")]
    [InlineData("2026-01-01T00:00:00Z")]
    [InlineData("2026-01-01T00:00:00.123Z")]
    [InlineData("2026-01-01T01:00:00%2B01:00")]
    [InlineData("2026-01-01T01:00:00+01:00")]
    [InlineData("2026-01-01T01:00:00%2B0100")]
    [InlineData("2025-12-31T18:00:00-06")]
    public async Task Historical_RackspaceDateForms_AreReadAsMidnightUtc(string startTime)
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        Poll(); // The record starts at 2026-01-01T00:00:00Z.

        var response = await api.GetAsync($"/loadbalancers/{id}/usage?startTime={startTime}&endTime=2026-01-01T00:00:00Z");
        Assert.True(response.Status == 200, response.ToString());
        Assert.Single(response.Body!["loadBalancerUsageRecords"]!.AsArray());
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("2026-13-01")]
    [InlineData("2026-02-30")]
    [InlineData("2026-01-01T25:00:00")]
    [InlineData("2026-01-01T00:00:00%2B15:00")]
    [InlineData("01/02/2026")]
    [InlineData("")]
    [InlineData("1767225600")]
    public async Task Historical_NotIso8601_Returns400WithTheReason(string startTime)
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        foreach (var path in new[] { $"/loadbalancers/{id}/usage?startTime={startTime}", "/loadbalancers/usage?startTime=" + startTime,
            $"/loadbalancers/billable?startTime={startTime}&endTime=2026-01-02", $"/loadbalancers/{id}/usage?endTime={startTime}" })
        {
            var response = await api.GetAsync(path);
            Assert.True(response.Status == 400, path + " " + response);
            Assert.Equal("Date parameters must follow ISO-8601 format", response.Body!["message"]!.GetValue<string>());
            Assert.Contains("Time: '" + Uri.UnescapeDataString(startTime) + "'", response.Body["details"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Usage_StartAfterEnd_Returns400()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        foreach (var path in new[] { $"/loadbalancers/{id}/usage", "/loadbalancers/usage", "/loadbalancers/billable" })
        {
            var response = await api.GetAsync(path + "?startTime=2026-01-02&endTime=2026-01-01");
            Assert.Equal(400, response.Status);
            Assert.Equal("Must specify an earlier startTime than endTime.", response.Body!["message"]!.GetValue<string>());
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("?startTime=2026-01-01")]
    [InlineData("?endTime=2026-01-01")]
    public async Task Billable_WithoutBothDates_Returns400(string query)
    {
        var response = await _host.NewAccount().GetAsync("/loadbalancers/billable" + query);
        Assert.Equal(400, response.Status);
        Assert.Equal("'startTime' and 'endTime' query parameters are required", response.Body!["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=1001")]
    [InlineData("limit=ten")]
    [InlineData("offset=-1")]
    [InlineData("offset=x")]
    public async Task Billable_BadOffsetOrLimit_Returns400(string paging)
    {
        var response = await _host.NewAccount().GetAsync("/loadbalancers/billable?startTime=2026-01-01&endTime=2026-01-02&" + paging);
        Assert.Equal(400, response.Status);
        Assert.Contains(paging.Split('=')[0] + ":", Assert.Single(response.Messages));
    }

    [Fact]
    public async Task Billable_ThreeLoadBalancersLimitTwo_PagesWithNextAndPreviousLinks()
    {
        var api = _host.NewAccount();
        var ids = new[] { await api.CreateLoadBalancerAsync(), await api.CreateLoadBalancerAsync(), await api.CreateLoadBalancerAsync() };
        Poll();

        var first = await api.GetAsync("/loadbalancers/billable?startTime=2026-01-01&endTime=2026-01-02&limit=2");
        Assert.Equal(200, first.Status);
        Assert.Equal(ids[..2], first.Body!["loadBalancers"]!.AsArray().Select(l => l!["id"]!.GetValue<int>()));
        var next = Assert.Single(first.Body["links"]!.AsArray())!;
        Assert.Equal("next", next["rel"]!.GetValue<string>());
        var href = new Uri(next["href"]!.GetValue<string>());
        Assert.Equal($"/v1.0/{api.Account}/loadbalancers/billable", href.AbsolutePath);
        Assert.Equal("?startTime=2026-01-01&endTime=2026-01-02&offset=2&limit=2", href.Query);

        var second = await api.GetAsync(href.PathAndQuery[$"/v1.0/{api.Account}".Length..]);
        Assert.Equal([ids[2]], second.Body!["loadBalancers"]!.AsArray().Select(l => l!["id"]!.GetValue<int>()));
        Assert.Equal(["previous"], second.Body["links"]!.AsArray().Select(l => l!["rel"]!.GetValue<string>()));
        var item = second.Body["loadBalancers"]![0]!.AsObject();
        Assert.Equal(["id", "name", "protocol", "port", "algorithm", "timeout", "status", "nodeCount", "created", "updated"], item.Select(p => p.Key));
        Assert.Equal("ACTIVE", item["status"]!.GetValue<string>());

        // Outside the range: nothing is billable.
        var before = await api.GetAsync("/loadbalancers/billable?startTime=2025-12-01&endTime=2025-12-31");
        Assert.Empty(before.Body!["loadBalancers"]!.AsArray());
    }

    [Fact]
    public async Task AccountUsage_TwoLoadBalancers_AccountRecordsAndUsagesPerLoadBalancer()
    {
        var api = _host.NewAccount();
        var first = await api.CreateLoadBalancerAsync();
        var second = await api.CreateLoadBalancerAsync();
        Poll();

        var response = await api.GetAsync("/loadbalancers/usage");
        Assert.Equal(200, response.Status);
        Assert.Equal(["accountUsage", "loadBalancerUsages", "accountId"], response.Body!.AsObject().Select(p => p.Key));
        Assert.Equal(api.Account, response.Body["accountId"]!.GetValue<int>());
        var accountRecords = response.Body["accountUsage"]!["accountUsageRecords"]!.AsArray();
        var last = accountRecords[^1]!;
        Assert.Equal(2, last["numLoadBalancers"]!.GetValue<int>());
        Assert.Equal(2, last["numPublicVips"]!.GetValue<int>());
        Assert.Equal(0, last["numServicenetVips"]!.GetValue<int>());
        Assert.Equal(["numLoadBalancers", "numPublicVips", "numServicenetVips", "startTime"], last.AsObject().Select(p => p.Key));
        var usages = response.Body["loadBalancerUsages"]!.AsArray();
        Assert.Equal([first, second], usages.Select(u => u!["loadBalancerId"]!.GetValue<int>()));
        Assert.Equal(["loadBalancerId", "loadBalancerName", "loadBalancerUsageRecords", "links"], usages[0]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public void AccountRecords_NoLoadBalancerForAnHour_WritesZeroThenTheNewCountAtItsFirstRecord()
    {
        UsageRecord At(int id, int hour, int minute = 0) => new()
        {
            Id = id * 100 + hour,
            AccountId = 1,
            LoadBalancerId = id,
            Start = ApiHost.StartTime.AddHours(hour).AddMinutes(minute),
            Vips = 1,
        };

        // Load balancer 2 has usage in hour 0 only, 1 in hours 0 and 1; a new one (3) is created at 03:20.
        var records = new List<UsageRecord> { At(1, 0), At(2, 0), At(1, 1), At(3, 3, 20) };
        var result = global::Tether.Management.Endpoints.UsageEndpoints.AccountRecords(records, ApiHost.StartTime, ApiHost.StartTime.AddHours(5));
        Assert.Equal(
            ["2026-01-01T00:00:00Z 2", "2026-01-01T01:00:00Z 1", "2026-01-01T02:00:00Z 0", "2026-01-01T03:20:00Z 1"],
            result.Select(r => r!["startTime"]!.GetValue<string>() + " " + r["numLoadBalancers"]!.GetValue<int>()));
    }
}

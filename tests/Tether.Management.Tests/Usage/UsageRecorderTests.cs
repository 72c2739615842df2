using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tether.Management.Usage;

namespace Tether.Management.Tests.Usage;

/// <summary>The usage roll-up (<see cref="UsageRecorder"/>): counters polled on a fake clock into hourly records with
/// Rackspace's events, read back through the usage routes.</summary>
public sealed class UsageRecorderTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private async Task<ApiHost> StartAsync() =>
        await ApiHost.StartAsync(_directory.Path, o => o.UsageBackgroundPolling = false, new RuntimeDataPlane());

    private static UsageRecorder Recorder(ApiHost host) => host.Services.GetRequiredService<UsageRecorder>();

    private static Core.Runtime.UsageCounters Counters(ApiHost host, int id) =>
        ((RuntimeDataPlane)host.DataPlane).FindRuntime(id)!.Usage;

    private static async Task<JsonArray> CurrentAsync(ApiClient api, int id)
    {
        var response = await api.GetAsync($"/loadbalancers/{id}/usage/current");
        Assert.True(response.Status == 200, response.ToString());
        return response.Body!["loadBalancerUsageRecords"]!.AsArray();
    }

    [Fact]
    public async Task Poll_TrafficWithinAnHour_OneRecordWithTheBytesPollsAndAverageConnections()
    {
        await using var host = await StartAsync();
        var api = host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var recorder = Recorder(host);
        recorder.Poll();

        var counters = Counters(host, id);
        counters.AddIncoming(100);
        counters.AddOutgoing(2_000);
        counters.AddIncoming(30, ssl: true);
        counters.AddOutgoing(40, ssl: true);
        counters.ConnectionOpened();
        counters.ConnectionOpened();
        counters.ConnectionOpened(ssl: true);
        host.Time.Advance(TimeSpan.FromSeconds(60));
        recorder.Poll();
        counters.ConnectionClosed();
        counters.ConnectionClosed();
        counters.ConnectionClosed(ssl: true);
        counters.AddIncoming(5);
        host.Time.Advance(TimeSpan.FromSeconds(60));
        recorder.Poll();

        var record = Assert.Single(await CurrentAsync(api, id))!;
        Assert.Equal("CREATE_LOADBALANCER", record["eventType"]!.GetValue<string>());
        Assert.Equal(105, record["incomingTransfer"]!.GetValue<long>());
        Assert.Equal(2_000, record["outgoingTransfer"]!.GetValue<long>());
        Assert.Equal(30, record["incomingTransferSsl"]!.GetValue<long>());
        Assert.Equal(40, record["outgoingTransferSsl"]!.GetValue<long>());
        Assert.Equal(3, record["numPolls"]!.GetValue<int>());
        // Connections polled: 0, 2, 0 (plain); 0, 1, 0 (SSL).
        Assert.Equal(0.667, record["averageNumConnections"]!.GetValue<double>());
        Assert.Equal(0.333, record["averageNumConnectionsSsl"]!.GetValue<double>());
        Assert.Equal("2026-01-01T00:00:00Z", record["startTime"]!.GetValue<string>());
        Assert.Equal("2026-01-01T00:02:00Z", record["endTime"]!.GetValue<string>());
        Assert.Equal(1, record["numVips"]!.GetValue<int>());
        Assert.Equal("PUBLIC", record["vipType"]!.GetValue<string>());
        Assert.Equal("OFF", record["sslMode"]!.GetValue<string>());
    }

    [Fact]
    public async Task Poll_CrossingTheHour_ClosesTheRecordAtTheHourAndOpensTheNext()
    {
        await using var host = await StartAsync();
        var api = host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var recorder = Recorder(host);
        var counters = Counters(host, id);
        recorder.Poll();
        host.Time.Advance(TimeSpan.FromMinutes(59));
        counters.AddIncoming(10);
        recorder.Poll();
        host.Time.Advance(TimeSpan.FromSeconds(90));
        counters.AddIncoming(20);
        recorder.Poll(); // 01:00:30: its bytes moved mostly before the hour, so they close the first record.
        host.Time.Advance(TimeSpan.FromSeconds(60));
        counters.AddIncoming(40);
        recorder.Poll();

        var records = await CurrentAsync(api, id);
        Assert.Equal(2, records.Count);
        Assert.Equal("2026-01-01T00:00:00Z", records[0]!["startTime"]!.GetValue<string>());
        Assert.Equal("2026-01-01T01:00:00Z", records[0]!["endTime"]!.GetValue<string>());
        Assert.Equal(30, records[0]!["incomingTransfer"]!.GetValue<long>());
        Assert.Equal(3, records[0]!["numPolls"]!.GetValue<int>());
        Assert.Equal("2026-01-01T01:00:00Z", records[1]!["startTime"]!.GetValue<string>());
        Assert.Equal("2026-01-01T01:01:30Z", records[1]!["endTime"]!.GetValue<string>());
        Assert.Equal(40, records[1]!["incomingTransfer"]!.GetValue<long>());
        Assert.Equal(1, records[1]!["numPolls"]!.GetValue<int>());
        Assert.Null(records[1]!["eventType"]);
    }

    [Fact]
    public async Task Poll_SslTerminationOnThenOff_OpensRecordsWithTheSslEvents()
    {
        await using var host = await StartAsync();
        var api = host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var recorder = Recorder(host);
        recorder.Poll();

        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        var body = $$$"""{"sslTermination":{"certificate":{{{JsonSerializer.Serialize(cert)}}},"privateKey":{{{JsonSerializer.Serialize(key)}}},"securePort":{{{ApiHost.NextPort()}}},"enabled":true,"secureTrafficOnly":false}}""";
        Assert.Equal(200, (await api.PutAsync($"/loadbalancers/{id}/ssltermination", body)).Status);
        host.Time.Advance(TimeSpan.FromSeconds(60));
        recorder.Poll();
        Assert.Equal(200, (await api.DeleteAsync($"/loadbalancers/{id}/ssltermination")).Status);
        host.Time.Advance(TimeSpan.FromSeconds(60));
        recorder.Poll();

        var records = await CurrentAsync(api, id);
        Assert.Equal(["CREATE_LOADBALANCER", "SSL_MIXED_ON", "SSL_OFF"], records.Select(r => r!["eventType"]!.GetValue<string>()));
        Assert.Equal(["OFF", "MIXED", "OFF"], records.Select(r => r!["sslMode"]!.GetValue<string>()));
        Assert.Equal("2026-01-01T00:01:00Z", records[1]!["startTime"]!.GetValue<string>());
        Assert.Equal("2026-01-01T00:01:00Z", records[0]!["endTime"]!.GetValue<string>());
    }

    [Fact]
    public async Task Poll_LoadBalancerDeleted_DeleteRecordAndItsUsageStaysListed()
    {
        await using var host = await StartAsync();
        var api = host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var recorder = Recorder(host);
        recorder.Poll();
        var counters = Counters(host, id);
        host.Time.Advance(TimeSpan.FromSeconds(60));
        recorder.Poll();
        counters.AddOutgoing(777);
        Assert.Equal(202, (await api.DeleteAsync($"/loadbalancers/{id}")).Status);
        host.Time.Advance(TimeSpan.FromSeconds(30));
        recorder.Poll();

        // The bytes after the last poll before the delete are kept; the delete is a record of its own.
        var records = await CurrentAsync(api, id);
        Assert.Equal(2, records.Count);
        Assert.Equal(777, records[0]!["outgoingTransfer"]!.GetValue<long>());
        Assert.Equal("DELETE_LOADBALANCER", records[1]!["eventType"]!.GetValue<string>());
        Assert.Equal("2026-01-01T00:01:30Z", records[1]!["startTime"]!.GetValue<string>());

        var billable = await api.GetAsync("/loadbalancers/billable?startTime=2026-01-01&endTime=2026-01-02");
        var listed = Assert.Single(billable.Body!["loadBalancers"]!.AsArray())!;
        Assert.Equal(id, listed["id"]!.GetValue<int>());
        Assert.Equal("DELETED", listed["status"]!.GetValue<string>());
        Assert.Equal("lb", listed["name"]!.GetValue<string>());

        var account = await api.GetAsync("/loadbalancers/usage?startTime=2026-01-01&endTime=2026-01-02");
        var usage = Assert.Single(account.Body!["loadBalancerUsages"]!.AsArray())!;
        Assert.Equal(id, usage["loadBalancerId"]!.GetValue<int>());
        Assert.Equal("lb", usage["loadBalancerName"]!.GetValue<string>());
        Assert.Equal(2, usage["loadBalancerUsageRecords"]!.AsArray().Count);

        // Another account never sees it.
        Assert.Equal(404, (await host.NewAccount().GetAsync($"/loadbalancers/{id}/usage/current")).Status);
    }

    [Fact]
    public async Task Poll_AfterRestartInTheSameHour_ContinuesTheStoredRecord()
    {
        int id;
        ApiClient api;
        await using (var first = await StartAsync())
        {
            api = first.NewAccount();
            id = await api.CreateLoadBalancerAsync();
            Counters(first, id).AddIncoming(50);
            Recorder(first).Poll();
        }

        await using var second = await StartAsync();
        second.Time.Advance(TimeSpan.FromSeconds(60));
        Counters(second, id).AddIncoming(25);
        Recorder(second).Poll();

        var again = second.Client(api.Account, api.Token);
        var record = Assert.Single(await CurrentAsync(again, id))!;
        Assert.Equal(75, record["incomingTransfer"]!.GetValue<long>());
        Assert.Equal(2, record["numPolls"]!.GetValue<int>());
        Assert.Equal("CREATE_LOADBALANCER", record["eventType"]!.GetValue<string>());
    }

    [Fact]
    public async Task Poll_LoadBalancerFromBeforeThisProcessWithoutRecords_FirstRecordHasNoCreateEvent()
    {
        await using var host = await StartAsync();
        var api = host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        // A recorder started five minutes later (a Tether upgraded to one that records usage) over the same store.
        var later = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(ApiHost.StartTime.AddMinutes(5));
        var recorder = new UsageRecorder(host.Store, host.Service, (Core.IRuntimeRegistry)host.DataPlane, later,
            new ManagementOptions { DataDirectory = _directory.Path }, Microsoft.Extensions.Logging.Abstractions.NullLogger<UsageRecorder>.Instance);
        recorder.Poll();
        host.Time.Advance(TimeSpan.FromMinutes(5));

        var record = Assert.Single(await CurrentAsync(api, id))!;
        Assert.Null(record["eventType"]);
        Assert.Equal("2026-01-01T00:05:00Z", record["startTime"]!.GetValue<string>());
    }

    [Fact]
    public async Task Poll_RecordsOlderThanTheRetention_AreDeleted()
    {
        await using var host = await StartAsync();
        var api = host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var recorder = Recorder(host);
        recorder.Poll();
        Assert.Single((await api.GetAsync($"/loadbalancers/{id}/usage?startTime=2026-01-01")).Body!["loadBalancerUsageRecords"]!.AsArray());

        host.Time.Advance(TimeSpan.FromDays(91));
        recorder.Poll();
        host.Time.Advance(TimeSpan.FromSeconds(60));
        recorder.Poll();
        var records = (await api.GetAsync($"/loadbalancers/{id}/usage?startTime=2026-01-01")).Body!["loadBalancerUsageRecords"]!.AsArray();
        var kept = Assert.Single(records)!;
        Assert.Equal("2026-04-02T00:00:00Z", kept["startTime"]!.GetValue<string>());
    }
}

namespace Tether.Management.Tests.Endpoints;

/// <summary>Metadata of load balancers and nodes (issue 12; Rackspace v1.0 reference "Metadata"): shapes and codes of
/// list, add, show, update and delete (single and <c>?id=</c>), every validation rule, the limits, all-or-nothing
/// deletes, ids never reused, node metadata in create bodies and node representations, storage and the audit log.</summary>
public sealed class MetadataEndpointsTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    /// <summary>The two owners of metadata: a load balancer (<c>lb</c>) and its first node (<c>node</c>).</summary>
    public static TheoryData<string> Owners => new() { "lb", "node" };

    private async Task<(ApiClient Api, int Id, int NodeId, string Path)> OwnerAsync(string owner)
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var nodeId = (await api.GetAsync($"/loadbalancers/{id}/nodes")).Body!["nodes"]![0]!["id"]!.GetValue<int>();
        var path = owner == "lb" ? $"/loadbalancers/{id}/metadata" : $"/loadbalancers/{id}/nodes/{nodeId}/metadata";
        return (api, id, nodeId, path);
    }

    /// <summary>The owner's items as stored.</summary>
    private IReadOnlyList<Tether.Core.Model.MetadataItem> Stored(int id, string owner, int nodeId)
    {
        var config = _host.Store.LoadAll().Single(c => c.Id == id);
        return owner == "lb" ? config.Metadata : config.Nodes.Single(n => n.Id == nodeId).Metadata;
    }

    [Theory]
    [MemberData(nameof(Owners))]
    public async Task Metadata_AddListShowUpdateDelete_FollowsRackspaceShapesAndCodes(string owner)
    {
        var (api, id, nodeId, path) = await OwnerAsync(owner);
        Assert.Equal("""{"metadata":[]}""", (await api.GetAsync(path)).Text);

        var added = await api.PostAsync(path, """{"metadata":[{"key":"color","value":"red"},{"key":"label","value":"web-load-balancer"}]}""");

        Assert.Equal(200, added.Status);
        var items = added.Body!["metadata"]!.AsArray();
        Assert.Equal(2, items.Count);
        Assert.Equal(["id", "key", "value"], items[0]!.AsObject().Select(p => p.Key));
        var color = items[0]!["id"]!.GetValue<int>();
        var label = items[1]!["id"]!.GetValue<int>();
        Assert.Equal(color + 1, label);
        Assert.Equal($$"""{"metadata":[{"id":{{color}},"key":"color","value":"red"},{"id":{{label}},"key":"label","value":"web-load-balancer"}]}""",
            (await api.GetAsync(path)).Text);
        Assert.Equal($$$"""{"meta":{"id":{{{label}}},"key":"label","value":"web-load-balancer"}}""", (await api.GetAsync($"{path}/{label}")).Text);

        var put = await api.PutAsync($"{path}/{color}", """{"meta":{"value":"blue"}}""");
        Assert.Equal(200, put.Status);
        Assert.Equal("", put.Text);
        Assert.Equal("blue", (await api.GetAsync($"{path}/{color}")).Body!["meta"]!["value"]!.GetValue<string>());
        Assert.Equal([("color", "blue"), ("label", "web-load-balancer")], Stored(id, owner, nodeId).Select(m => (m.Key, m.Value)));

        var delete = await api.DeleteAsync($"{path}/{color}");
        Assert.Equal(200, delete.Status);
        Assert.Equal("", delete.Text);
        Assert.Equal(404, (await api.GetAsync($"{path}/{color}")).Status);
        Assert.Equal(200, (await api.DeleteAsync($"{path}?id={label}")).Status);
        Assert.Equal("""{"metadata":[]}""", (await api.GetAsync(path)).Text);
        Assert.Empty(Stored(id, owner, nodeId));
    }

    [Fact]
    public async Task Metadata_BareArrayAndBareMeta_AreAccepted()
    {
        var (api, _, _, path) = await OwnerAsync("lb");

        var added = await api.PostAsync(path, """[{"key":"a","value":"1"}]""");
        Assert.Equal(200, added.Status);
        var metaId = added.Body!["metadata"]![0]!["id"]!.GetValue<int>();

        Assert.Equal(200, (await api.PutAsync($"{path}/{metaId}", """{"value":"2"}""")).Status);
        Assert.Equal("2", (await api.GetAsync($"{path}/{metaId}")).Body!["meta"]!["value"]!.GetValue<string>());
    }

    [Fact]
    public async Task Metadata_ShownInLoadBalancerAndNodeRepresentations()
    {
        var (api, id, nodeId, _) = await OwnerAsync("lb");
        await api.PostAsync($"/loadbalancers/{id}/metadata", """{"metadata":[{"key":"team","value":"blue"}]}""");
        var nodeMeta = await api.PostAsync($"/loadbalancers/{id}/nodes/{nodeId}/metadata", """{"metadata":[{"key":"rack","value":"r1"}]}""");
        var nodeMetaId = nodeMeta.Body!["metadata"]![0]!["id"]!.GetValue<int>();

        var lb = (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!;
        var node = (await api.GetAsync($"/loadbalancers/{id}/nodes/{nodeId}")).Body!["node"]!;
        var listed = (await api.GetAsync($"/loadbalancers/{id}/nodes")).Body!["nodes"]![0]!;

        Assert.Equal("blue", lb["metadata"]![0]!["value"]!.GetValue<string>());
        Assert.Equal($$"""[{"id":{{nodeMetaId}},"key":"rack","value":"r1"}]""", node["metadata"]!.ToJsonString());
        Assert.Equal(node["metadata"]!.ToJsonString(), listed["metadata"]!.ToJsonString());
        Assert.Equal(node["metadata"]!.ToJsonString(), lb["nodes"]![0]!["metadata"]!.ToJsonString());
        Assert.Equal("r1", _host.DataPlane.Applied.Last(c => c.Id == id).Nodes[0].Metadata[0].Value);
    }

    [Fact]
    public async Task Node_WithoutMetadata_HasNoMetadataField()
    {
        var (api, id, nodeId, _) = await OwnerAsync("lb");

        var node = (await api.GetAsync($"/loadbalancers/{id}/nodes/{nodeId}")).Body!["node"]!.AsObject();

        Assert.Equal(["id", "address", "port", "condition", "status", "weight", "type"], node.Select(p => p.Key));
    }

    [Theory]
    [InlineData("""{"metadata":[{"value":"v"}]}""", "metadata[0].key: is required (1 to 256 characters)")]
    [InlineData("""{"metadata":[{"key":"k"}]}""", "metadata[0].value: is required (1 to 256 characters)")]
    [InlineData("""{"metadata":[{"key":"","value":"v"}]}""", "metadata[0].key: must be 1 to 256 characters (got 0)")]
    [InlineData("""{"metadata":[{"key":"k","value":""}]}""", "metadata[0].value: must be 1 to 256 characters (got 0)")]
    [InlineData("""{"metadata":[{"key":"KEY257","value":"v"}]}""", "metadata[0].key: must be 1 to 256 characters (got 257)")]
    [InlineData("""{"metadata":[{"key":"k","value":"KEY257"}]}""", "metadata[0].value: must be 1 to 256 characters (got 257)")]
    [InlineData("""{"metadata":[{"key":1,"value":"v"}]}""", "metadata[0].key: must be a string")]
    [InlineData("""{"metadata":[{"key":"k","value":true}]}""", "metadata[0].value: must be a string")]
    [InlineData("""{"metadata":[{"key":"a","value":"1"},{"key":"a","value":"2"}]}""", "metadata[1].key: duplicate key 'a'")]
    [InlineData("""{"metadata":[{"key":"k","value":"v","id":7}]}""", "metadata[0].id: unknown field (known fields: key, value)")]
    [InlineData("""{"metadata":[{"key":"k","value":"v"}],"meta":{}}""", "meta: unknown field; did you mean metadata?")]
    [InlineData("""{"metadata":[]}""", "metadata: give at least one item ({\"key\",\"value\"})")]
    [InlineData("""{"metadata":{"key":"k","value":"v"}}""", "metadata: give the items as {\"metadata\":[{\"key\":\"color\",\"value\":\"red\"}]}")]
    [InlineData("""{"meta":[{"key":"k","value":"v"}]}""", "metadata: give the items as {\"metadata\":[{\"key\":\"color\",\"value\":\"red\"}]}")]
    [InlineData("""[1]""", "metadata[0]: must be an object")]
    public async Task Add_InvalidItem_Returns400WithReasonAndAddsNothing(string body, string message)
    {
        foreach (var owner in new[] { "lb", "node" })
        {
            var (api, id, nodeId, path) = await OwnerAsync(owner);
            await api.PostAsync(path, """{"metadata":[{"key":"keep","value":"me"}]}""");

            var response = await api.PostAsync(path, body.Replace("KEY257", new string('x', 257), StringComparison.Ordinal));

            Assert.Equal(400, response.Status);
            Assert.Contains(message, response.Messages);
            Assert.Equal(["keep"], Stored(id, owner, nodeId).Select(m => m.Key));
        }
    }

    [Theory]
    [MemberData(nameof(Owners))]
    public async Task Add_KeyAlreadyHeld_Returns400(string owner)
    {
        var (api, id, nodeId, path) = await OwnerAsync(owner);
        var first = await api.PostAsync(path, """{"metadata":[{"key":"color","value":"red"}]}""");
        var metaId = first.Body!["metadata"]![0]!["id"]!.GetValue<int>();

        var response = await api.PostAsync(path, """{"metadata":[{"key":"size","value":"L"},{"key":"color","value":"blue"}]}""");

        Assert.Equal(400, response.Status);
        Assert.Contains($"metadata[1].key: an item with key 'color' already exists (id {metaId}); keys are unique, change its value with PUT .../metadata/{metaId}", response.Messages);
        Assert.Equal([("color", "red")], Stored(id, owner, nodeId).Select(m => (m.Key, m.Value)));
    }

    [Fact]
    public async Task Add_SameKeyOnLoadBalancerAndNode_IsAllowed()
    {
        var (api, id, nodeId, path) = await OwnerAsync("lb");
        Assert.Equal(200, (await api.PostAsync(path, """{"metadata":[{"key":"color","value":"red"}]}""")).Status);

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes/{nodeId}/metadata", """{"metadata":[{"key":"color","value":"red"}]}""");

        Assert.Equal(200, response.Status);
    }

    [Theory]
    [MemberData(nameof(Owners))]
    public async Task Add_KeyAndValueOf256Characters_AreAccepted(string owner)
    {
        var (api, _, _, path) = await OwnerAsync(owner);
        var text = new string('é', 256);

        var response = await api.PostAsync(path, new JsonObject
        {
            ["metadata"] = new JsonArray(new JsonObject { ["key"] = text, ["value"] = text }),
        }.ToJsonString());

        Assert.Equal(200, response.Status);
        Assert.Equal(text, response.Body!["metadata"]![0]!["key"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("lb", "LOADBALANCER_META_LIMIT", "a load balancer")]
    [InlineData("node", "NODE_META_LIMIT", "a node")]
    public async Task Add_PastTheLimit_Returns413AndAddsNothing(string owner, string limit, string what)
    {
        var (api, id, nodeId, path) = await OwnerAsync(owner);
        Assert.Equal(200, (await api.PostAsync(path, Items(0, 20))).Status);

        var over = await api.PostAsync(path, Items(20, 6));

        Assert.Equal(413, over.Status);
        Assert.Equal(413, over.Body!["code"]!.GetValue<int>());
        Assert.Equal($"Metadata limit reached: {what} may hold at most 25 metadata items ({limit}; it holds 20, 6 more were given).",
            over.Body!["message"]!.GetValue<string>());
        Assert.Equal(20, Stored(id, owner, nodeId).Count);
        Assert.Equal(200, (await api.PostAsync(path, Items(20, 5))).Status);
        Assert.Equal(25, Stored(id, owner, nodeId).Count);
        Assert.Equal(413, (await api.PostAsync(path, Items(25, 1))).Status);
    }

    [Fact]
    public async Task AbsoluteLimits_ListTheMetadataLimits()
    {
        var limits = (await _host.NewAccount().GetAsync("/loadbalancers/absolutelimits")).Body!["absolute"]!.AsArray()
            .ToDictionary(l => l!["name"]!.GetValue<string>(), l => l!["value"]!.GetValue<int>());

        Assert.Equal(25, limits["LOADBALANCER_META_LIMIT"]);
        Assert.Equal(25, limits["NODE_META_LIMIT"]);
    }

    [Theory]
    [MemberData(nameof(Owners))]
    public async Task Delete_BulkWithAnUnknownId_Returns404AndDeletesNothing(string owner)
    {
        var (api, id, nodeId, path) = await OwnerAsync(owner);
        var added = await api.PostAsync(path, Items(0, 2));
        var ids = added.Body!["metadata"]!.AsArray().Select(m => m!["id"]!.GetValue<int>()).ToList();

        var response = await api.DeleteAsync($"{path}?id={ids[0]}&id=999999&id={ids[1]}");

        Assert.Equal(404, response.Status);
        Assert.Equal("Metadata item not found", response.Body!["message"]!.GetValue<string>());
        Assert.Equal("Not found: 999999; nothing was deleted.", response.Body!["details"]!.GetValue<string>());
        Assert.Equal(2, Stored(id, owner, nodeId).Count);
        Assert.Equal(200, (await api.DeleteAsync($"{path}?id={ids[0]}&id={ids[1]}")).Status);
        Assert.Empty(Stored(id, owner, nodeId));
    }

    [Theory]
    [InlineData("", "id: give the metadata items to delete as query parameters (?id=1&id=2)")]
    [InlineData("?id=abc", "id: 'abc' is not a positive integer")]
    [InlineData("?id=1&id=2&id=3&id=4&id=5&id=6&id=7&id=8&id=9&id=10&id=11", "id: at most 10 metadata items can be deleted at once (BATCH_DELETE_LIMIT; got 11)")]
    public async Task Delete_BadIds_Returns400(string query, string message)
    {
        var (api, id, nodeId, path) = await OwnerAsync("node");
        await api.PostAsync(path, Items(0, 1));

        var response = await api.DeleteAsync(path + query);

        Assert.Equal(400, response.Status);
        Assert.Contains(message, response.Messages);
        Assert.Single(Stored(id, "node", nodeId));
    }

    [Theory]
    [MemberData(nameof(Owners))]
    public async Task Ids_AreNeverReused(string owner)
    {
        var (api, _, _, path) = await OwnerAsync(owner);
        var first = (await api.PostAsync(path, Items(0, 1))).Body!["metadata"]![0]!["id"]!.GetValue<int>();
        Assert.Equal(200, (await api.DeleteAsync($"{path}/{first}")).Status);

        var second = (await api.PostAsync(path, Items(0, 1))).Body!["metadata"]![0]!["id"]!.GetValue<int>();

        Assert.True(second > first, $"{second} after {first}");
    }

    [Theory]
    [InlineData("""{"meta":{"value":""}}""", "value: must be 1 to 256 characters (got 0)")]
    [InlineData("""{"meta":{"value":"KEY257"}}""", "value: must be 1 to 256 characters (got 257)")]
    [InlineData("""{"meta":{}}""", "value: is required (1 to 256 characters)")]
    [InlineData("""{"meta":{"value":5}}""", "value: must be a string")]
    [InlineData("""{"meta":{"value":"v","key":"other"}}""", "key: is immutable and cannot be changed; delete the item and add a new one")]
    [InlineData("""{"meta":{"value":"v","id":3}}""", "id: is immutable and cannot be changed; delete the item and add a new one")]
    [InlineData("""{"meta":{"value":"v","color":"x"}}""", "color: unknown field (known fields: value, key, id)")]
    [InlineData("""{"meta":{"value":"v"},"extra":1}""", "extra: unknown field beside \"meta\" (give the fields inside \"meta\")")]
    public async Task Update_Invalid_Returns400AndChangesNothing(string body, string message)
    {
        foreach (var owner in new[] { "lb", "node" })
        {
            var (api, id, nodeId, path) = await OwnerAsync(owner);
            var metaId = (await api.PostAsync(path, Items(0, 1))).Body!["metadata"]![0]!["id"]!.GetValue<int>();

            var response = await api.PutAsync($"{path}/{metaId}", body.Replace("KEY257", new string('x', 257), StringComparison.Ordinal));

            Assert.Equal(400, response.Status);
            Assert.Contains(message, response.Messages);
            Assert.Equal("v0", Stored(id, owner, nodeId).Single().Value);
        }
    }

    [Theory]
    [MemberData(nameof(Owners))]
    public async Task UnknownItem_Returns404(string owner)
    {
        var (api, _, _, path) = await OwnerAsync(owner);

        var responses = new[]
        {
            await api.GetAsync($"{path}/999999"),
            await api.PutAsync($"{path}/999999", """{"meta":{"value":"v"}}"""),
            await api.DeleteAsync($"{path}/999999"),
        };

        Assert.All(responses, r => Assert.Equal("""{"message":"Metadata item not found","code":404}""", r.Text));
    }

    [Fact]
    public async Task UnknownNodeOrLoadBalancer_Returns404()
    {
        var (api, id, _, _) = await OwnerAsync("lb");
        var node = $"/loadbalancers/{id}/nodes/999999/metadata";
        var other = _host.NewAccount();

        Assert.All(new[]
        {
            await api.GetAsync(node), await api.PostAsync(node, Items(0, 1)), await api.GetAsync($"{node}/1"),
            await api.PutAsync($"{node}/1", """{"value":"v"}"""), await api.DeleteAsync($"{node}/1"), await api.DeleteAsync($"{node}?id=1"),
        }, r => Assert.Equal("""{"message":"Node not found","code":404}""", r.Text));
        Assert.All(new[]
        {
            await other.GetAsync($"/loadbalancers/{id}/metadata"), await other.PostAsync($"/loadbalancers/{id}/metadata", Items(0, 1)),
            await other.GetAsync($"/loadbalancers/{id}/metadata/1"), await other.PutAsync($"/loadbalancers/{id}/metadata/1", """{"value":"v"}"""),
            await other.DeleteAsync($"/loadbalancers/{id}/metadata/1"), await other.DeleteAsync($"/loadbalancers/{id}/metadata?id=1"),
        }, r => Assert.Equal("""{"message":"Load balancer not found","code":404}""", r.Text));
        Assert.Empty(_host.Store.LoadAll().Single(c => c.Id == id).Metadata);
    }

    [Fact]
    public async Task Create_NodeMetadata_IsStoredWithIdsAndShown()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync(extra: "\"metadata\":[{\"key\":\"lb\",\"value\":\"1\"}]",
            nodes: """[{"address":"10.0.0.1","port":80,"metadata":[{"key":"rack","value":"r1"},{"key":"zone","value":"a"}]},{"address":"10.0.0.2","port":80}]""");

        var lb = (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!;

        var items = lb["nodes"]![0]!["metadata"]!.AsArray();
        Assert.Equal(["rack", "zone"], items.Select(m => m!["key"]!.GetValue<string>()));
        var ids = new[] { lb["metadata"]![0]!["id"]!.GetValue<int>(), items[0]!["id"]!.GetValue<int>(), items[1]!["id"]!.GetValue<int>() };
        Assert.Equal(3, ids.Distinct().Count());
        Assert.Null(lb["nodes"]![1]!["metadata"]);
        Assert.Equal(2, _host.Store.LoadAll().Single(c => c.Id == id).Nodes[0].Metadata.Length);
    }

    [Fact]
    public async Task AddNodes_NodeMetadata_IsStoredWithIdsAndReturned()
    {
        var (api, id, _, _) = await OwnerAsync("lb");

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes", """{"nodes":[{"address":"10.0.0.7","port":80,"metadata":[{"key":"rack","value":"r7"}]}]}""");

        Assert.Equal(202, response.Status);
        var node = response.Body!["nodes"]![0]!;
        var metaId = node["metadata"]![0]!["id"]!.GetValue<int>();
        Assert.True(metaId > 0);
        var shown = await api.GetAsync($"/loadbalancers/{id}/nodes/{node["id"]!.GetValue<int>()}/metadata/{metaId}");
        Assert.Equal("r7", shown.Body!["meta"]!["value"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""[{"address":"10.0.0.1","port":80,"metadata":[{"key":"a","value":"1"},{"key":"a","value":"2"}]}]""", "nodes[0].metadata[1].key: duplicate key 'a'")]
    [InlineData("""[{"address":"10.0.0.1","port":80,"metadata":[{"key":"a"}]}]""", "nodes[0].metadata[0].value: is required (1 to 256 characters)")]
    [InlineData("""[{"address":"10.0.0.1","port":80,"metadata":[{"key":"a","value":"1","colour":"x"}]}]""", "nodes[0].metadata[0].colour: unknown field (known fields: key, value)")]
    [InlineData("""[{"address":"10.0.0.1","port":80,"metadata":{"key":"a","value":"1"}}]""", "nodes[0].metadata: must be an array of objects")]
    public async Task Create_InvalidNodeMetadata_Returns400AndCreatesNothing(string nodes, string message)
    {
        var api = _host.NewAccount();

        var create = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(), nodes: nodes));

        Assert.Equal(400, create.Status);
        Assert.Contains(message, create.Messages);
        Assert.Empty((await api.GetAsync("/loadbalancers")).Body!["loadBalancers"]!.AsArray());
    }

    [Fact]
    public async Task AddNodes_InvalidNodeMetadata_Returns400AndAddsNothing()
    {
        var (api, id, _, _) = await OwnerAsync("lb");

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes", """{"nodes":[{"address":"10.0.0.7","port":80,"metadata":[{"value":"1"}]}]}""");

        Assert.Equal(400, response.Status);
        Assert.Contains("nodes[0].metadata[0].key: is required (1 to 256 characters)", response.Messages);
        Assert.Single(_host.Store.LoadAll().Single(c => c.Id == id).Nodes);
    }

    [Fact]
    public async Task Create_TooManyItems_Returns413AndCreatesNothing()
    {
        var api = _host.NewAccount();
        var items = ItemArray(0, 26);

        var lbOver = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(), "\"metadata\":" + items));
        var nodeOver = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(),
            nodes: """[{"address":"10.0.0.1","port":80,"metadata":""" + items + "}]"));

        Assert.Equal(413, lbOver.Status);
        Assert.Equal("Metadata limit reached: a load balancer may hold at most 25 metadata items (LOADBALANCER_META_LIMIT; 26 were given).",
            lbOver.Body!["message"]!.GetValue<string>());
        Assert.Equal(413, nodeOver.Status);
        Assert.Equal("Metadata limit reached: a node may hold at most 25 metadata items (NODE_META_LIMIT; 26 were given).",
            nodeOver.Body!["message"]!.GetValue<string>());
        Assert.Empty((await api.GetAsync("/loadbalancers")).Body!["loadBalancers"]!.AsArray());
    }

    [Fact]
    public async Task AddNodes_TooManyNodeItems_Returns413AndAddsNothing()
    {
        var (api, id, _, _) = await OwnerAsync("lb");

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes",
            """{"nodes":[{"address":"10.0.0.7","port":80,"metadata":""" + ItemArray(0, 26) + "}]}");

        Assert.Equal(413, response.Status);
        Assert.Single(_host.Store.LoadAll().Single(c => c.Id == id).Nodes);
    }

    [Fact]
    public async Task UpdateNode_WithMetadata_Returns400PointingToTheResource()
    {
        var (api, id, nodeId, _) = await OwnerAsync("lb");

        var response = await api.PutAsync($"/loadbalancers/{id}/nodes/{nodeId}", """{"node":{"weight":2,"metadata":[{"key":"a","value":"1"}]}}""");

        Assert.Equal(400, response.Status);
        Assert.Contains("metadata: cannot be changed by PUT /loadbalancers/{id}/nodes/{nodeId}; use /loadbalancers/{id}/nodes/{nodeId}/metadata", response.Messages);
    }

    [Fact]
    public async Task Changes_AreAudited()
    {
        var (api, id, nodeId, _) = await OwnerAsync("lb");
        var added = await api.PostAsync($"/loadbalancers/{id}/nodes/{nodeId}/metadata", """{"metadata":[{"key":"rack","value":"r1"}]}""");
        var metaId = added.Body!["metadata"]![0]!["id"]!.GetValue<int>();
        Assert.Equal(200, (await api.PutAsync($"/loadbalancers/{id}/metadata/{(await api.PostAsync($"/loadbalancers/{id}/metadata", Items(0, 1))).Body!["metadata"]![0]!["id"]}", """{"value":"changed"}""")).Status);

        var entries = (await api.GetAsync("/audit?limit=3")).Body!["auditEntries"]!.AsArray();

        var update = entries[0]!;
        Assert.Equal("PUT", update["method"]!.GetValue<string>());
        Assert.Contains(update["changes"]!.AsArray(), c => c!["field"]!.GetValue<string>().EndsWith(".value", StringComparison.Ordinal)
            && c["old"]!.GetValue<string>() == "v0" && c["new"]!.GetValue<string>() == "changed");
        var nodeAdd = entries[2]!;
        Assert.Equal($"/loadbalancers/{id}/nodes/{nodeId}/metadata", nodeAdd["resource"]!.GetValue<string>());
        Assert.Equal("POST", nodeAdd["method"]!.GetValue<string>());
        Assert.Contains($"\"id\":{metaId}", nodeAdd["changes"]!.ToJsonString(), StringComparison.Ordinal);
    }

    private static string ItemArray(int first, int count) =>
        "[" + string.Join(",", Enumerable.Range(first, count).Select(i => $$"""{"key":"k{{i}}","value":"v{{i}}"}""")) + "]";

    private static string Items(int first, int count) => "{\"metadata\":" + ItemArray(first, count) + "}";
}

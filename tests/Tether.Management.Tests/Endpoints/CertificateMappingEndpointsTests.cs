using Tether.Management.Storage;

namespace Tether.Management.Tests.Endpoints;

/// <summary>Certificate mappings (issue 12, item 4; Rackspace v1.0 <c>/ssltermination/certificatemappings</c>): one
/// test per rule, each checking that a refusal changes nothing.</summary>
public sealed class CertificateMappingEndpointsTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    private static string Mappings(int id) => $"/loadbalancers/{id}/ssltermination/certificatemappings";

    private static string MappingBody(string hostName, string certificate, string key, string? intermediate = null)
    {
        var mapping = new JsonObject { ["hostName"] = hostName, ["certificate"] = certificate, ["privateKey"] = key };
        if (intermediate is not null)
        {
            mapping["intermediateCertificate"] = intermediate;
        }

        return new JsonObject { ["certificateMapping"] = mapping }.ToJsonString();
    }

    /// <summary>An HTTP load balancer with SSL termination (its own certificate).</summary>
    private async Task<(ApiClient Api, int Id)> WithSslTerminationAsync()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        var body = new JsonObject
        {
            ["sslTermination"] = new JsonObject { ["certificate"] = cert, ["privateKey"] = key, ["securePort"] = ApiHost.NextPort() },
        };
        var put = await api.PutAsync($"/loadbalancers/{id}/ssltermination", body.ToJsonString());
        Assert.True(put.Status == 200, put.ToString());
        return (api, id);
    }

    private async Task<int> AddAsync(ApiClient api, int id, string hostName)
    {
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime, "CN=" + hostName.Replace("*", "star", StringComparison.Ordinal));
        var post = await api.PostAsync(Mappings(id), MappingBody(hostName, cert, key));
        Assert.True(post.Status == 202, post.ToString());
        return post.Body!["certificateMapping"]!["id"]!.GetValue<int>();
    }

    /// <summary>What a refused request could have changed: the mapping list, SSL termination and the live config.</summary>
    private async Task<string> StateAsync(ApiClient api, int id)
    {
        var list = await api.GetAsync(Mappings(id));
        var ssl = await api.GetAsync($"/loadbalancers/{id}/ssltermination");
        var live = _host.DataPlane.Live[id].SslTermination?.CertificateMappings.Select(m => m.HostName + " " + m.Certificate.Length);
        return $"{list}\n{ssl}\n{string.Join(", ", live ?? [])}";
    }

    [Fact]
    public async Task Post_ValidMapping_Returns202WithTheMappingAndNeverThePrivateKey()
    {
        var (api, id) = await WithSslTerminationAsync();
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime, "CN=one.example.test");
        var (chain, _) = TestCertificates.ValidAt(ApiHost.StartTime, "CN=Intermediate");

        var post = await api.PostAsync(Mappings(id), MappingBody("one.example.test", cert, key, chain));
        var mappingId = post.Body!["certificateMapping"]!["id"]!.GetValue<int>();
        var list = await api.GetAsync(Mappings(id));
        var one = await api.GetAsync($"{Mappings(id)}/{mappingId}");

        Assert.Equal(202, post.Status);
        Assert.Equal("one.example.test", post.Body["certificateMapping"]!["hostName"]!.GetValue<string>());
        Assert.Equal("{\"certificateMappings\":[{\"certificateMapping\":{\"id\":" + mappingId + ",\"hostName\":\"one.example.test\"}}]}", list.Text);
        Assert.Equal(200, one.Status);
        Assert.Equal(cert, one.Body!["certificateMapping"]!["certificate"]!.GetValue<string>());
        Assert.Equal(chain, one.Body["certificateMapping"]!["intermediateCertificate"]!.GetValue<string>());
        foreach (var text in new[] { post.Text, list.Text, one.Text })
        {
            Assert.DoesNotContain("PRIVATE KEY", text, StringComparison.Ordinal);
            Assert.DoesNotContain("privateKey", text, StringComparison.Ordinal);
        }

        var live = Assert.Single(_host.DataPlane.Live[id].SslTermination!.CertificateMappings);
        Assert.Equal(key, live.PrivateKey);
        Assert.Equal("one.example.test", live.HostName);
    }

    [Fact]
    public async Task EveryCall_WithoutSslTermination_Returns404SslTerminationNotFound()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);

        var answers = new[]
        {
            await api.GetAsync(Mappings(id)),
            await api.PostAsync(Mappings(id), MappingBody("one.example.test", cert, key)),
            await api.GetAsync($"{Mappings(id)}/1"),
            await api.PutAsync($"{Mappings(id)}/1", """{"certificateMapping":{"hostName":"two.example.test"}}"""),
            await api.DeleteAsync($"{Mappings(id)}/1"),
        };

        Assert.All(answers, a =>
        {
            Assert.Equal(404, a.Status);
            Assert.Equal("SSL termination not found", a.Body!["message"]!.GetValue<string>());
        });
        Assert.Null(_host.DataPlane.Live[id].SslTermination);
    }

    [Fact]
    public async Task EveryCall_UnknownLoadBalancer_Returns404()
    {
        var api = _host.NewAccount();

        Assert.Equal(404, (await api.GetAsync(Mappings(987654))).Status);
        Assert.Equal(404, (await api.PostAsync(Mappings(987654), """{"certificateMapping":{"hostName":"a.test"}}""")).Status);
        Assert.Equal(404, (await api.DeleteAsync($"{Mappings(987654)}/1")).Status);
    }

    [Fact]
    public async Task Post_MissingFieldsOrWithId_Returns400AndChangesNothing()
    {
        var (api, id) = await WithSslTerminationAsync();
        var before = await StateAsync(api, id);

        var empty = await api.PostAsync(Mappings(id), """{"certificateMapping":{}}""");
        var withId = await api.PostAsync(Mappings(id), """{"certificateMapping":{"id":5,"hostName":"a.test"}}""");

        Assert.Equal(400, empty.Status);
        Assert.Contains(empty.Messages, m => m.StartsWith("hostName: required", StringComparison.Ordinal));
        Assert.Contains("certificate: required (PEM)", empty.Messages);
        Assert.Contains("privateKey: required (PEM)", empty.Messages);
        Assert.Equal(400, withId.Status);
        Assert.Contains(withId.Messages, m => m.StartsWith("id: cannot be given", StringComparison.Ordinal));
        Assert.Equal(before, await StateAsync(api, id));
    }

    [Theory]
    [InlineData("")]
    [InlineData("*")]
    [InlineData("**")]
    [InlineData("www.*.com")]
    [InlineData("example.*")]
    [InlineData("-a.example.com")]
    [InlineData("a-.example.com")]
    [InlineData("a_b.example.com")]
    [InlineData("a..example.com")]
    [InlineData("example.com:443")]
    [InlineData("*example.com")]
    [InlineData("exämple.com")]
    public async Task Post_InvalidHostName_Returns400AndChangesNothing(string hostName)
    {
        var (api, id) = await WithSslTerminationAsync();
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        var before = await StateAsync(api, id);

        var post = await api.PostAsync(Mappings(id), MappingBody(hostName, cert, key));

        Assert.Equal(400, post.Status);
        Assert.Contains(post.Messages, m => m.StartsWith("hostName: ", StringComparison.Ordinal));
        Assert.Equal(before, await StateAsync(api, id));
    }

    [Fact]
    public async Task Post_HostNameOver128Characters_Returns400()
    {
        var (api, id) = await WithSslTerminationAsync();
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        var longName = string.Join('.', Enumerable.Repeat(new string('a', 40), 3)) + ".com"; // 126 characters
        var tooLong = "abc." + longName;

        var ok = await api.PostAsync(Mappings(id), MappingBody(longName, cert, key));
        var refused = await api.PostAsync(Mappings(id), MappingBody(tooLong, cert, key));

        Assert.Equal(202, ok.Status);
        Assert.Equal(400, refused.Status);
        Assert.Contains(refused.Messages, m => m.StartsWith("hostName: must be at most 128 characters", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("*.example.com")]
    [InlineData("*.*.example.com")]
    [InlineData("*.com")]
    [InlineData("WWW.Example.COM")]
    [InlineData("1.2.3.4")]
    [InlineData("localhost")]
    public async Task Post_ValidHostNames_AsRackspaceAccepts_Return202(string hostName)
    {
        var (api, id) = await WithSslTerminationAsync();

        await AddAsync(api, id, hostName);

        Assert.Equal(hostName, Assert.Single(_host.DataPlane.Live[id].SslTermination!.CertificateMappings).HostName);
    }

    [Fact]
    public async Task Post_HostNameAlreadyMappedInAnyCase_Returns422AndChangesNothing()
    {
        var (api, id) = await WithSslTerminationAsync();
        var first = await AddAsync(api, id, "one.example.test");
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        var before = await StateAsync(api, id);

        var post = await api.PostAsync(Mappings(id), MappingBody("ONE.Example.Test", cert, key));

        Assert.Equal(422, post.Status);
        Assert.Equal($"Duplicate host name detected. Certificate mapping with id '{first}' has already configured the host name provided.",
            post.Body!["message"]!.GetValue<string>());
        Assert.Equal(before, await StateAsync(api, id));
    }

    [Fact]
    public async Task Post_KeyOfAnotherCertificate_Returns400AndChangesNothing()
    {
        var (api, id) = await WithSslTerminationAsync();
        var (cert, _) = TestCertificates.ValidAt(ApiHost.StartTime);
        var (_, otherKey) = TestCertificates.ValidAt(ApiHost.StartTime);
        var before = await StateAsync(api, id);

        var post = await api.PostAsync(Mappings(id), MappingBody("one.example.test", cert, otherKey));

        Assert.Equal(400, post.Status);
        Assert.Contains(post.Messages, m => m.StartsWith("certificate, privateKey:", StringComparison.Ordinal));
        Assert.Equal(before, await StateAsync(api, id));
    }

    [Fact]
    public async Task Post_ExpiredCertificateNotPemOrBadIntermediate_Returns400()
    {
        var (api, id) = await WithSslTerminationAsync();
        var (expired, expiredKey) = TestCertificates.Create(ApiHost.StartTime.AddYears(-2), ApiHost.StartTime.AddDays(-1));
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        var before = await StateAsync(api, id);

        var old = await api.PostAsync(Mappings(id), MappingBody("one.example.test", expired, expiredKey));
        var junk = await api.PostAsync(Mappings(id), MappingBody("one.example.test", "not a certificate", key));
        var chain = await api.PostAsync(Mappings(id), MappingBody("one.example.test", cert, key, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));

        Assert.Equal(400, old.Status);
        Assert.Contains(old.Messages, m => m.StartsWith("certificate: expired on", StringComparison.Ordinal));
        Assert.Equal(400, junk.Status);
        Assert.Contains(junk.Messages, m => m.StartsWith("certificate, privateKey:", StringComparison.Ordinal));
        Assert.Equal(400, chain.Status);
        Assert.Contains(chain.Messages, m => m.StartsWith("intermediateCertificate:", StringComparison.Ordinal));
        Assert.Equal(before, await StateAsync(api, id));
    }

    [Fact]
    public async Task Post_UnknownOrMisspelledField_Returns400WithSuggestion()
    {
        var (api, id) = await WithSslTerminationAsync();
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        var body = new JsonObject
        {
            ["certificateMapping"] = new JsonObject { ["hostName"] = "a.test", ["certificate"] = cert, ["privatekey"] = key },
        };

        var post = await api.PostAsync(Mappings(id), body.ToJsonString());

        Assert.Equal(400, post.Status);
        Assert.Contains("privatekey: unknown field; did you mean privateKey?", post.Messages);
    }

    [Fact]
    public async Task Post_OverTheLimitOf20_Returns413AndChangesNothing()
    {
        var (api, id) = await WithSslTerminationAsync();
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(202, (await api.PostAsync(Mappings(id), MappingBody($"h{i}.example.test", cert, key))).Status);
        }

        var before = await StateAsync(api, id);

        var post = await api.PostAsync(Mappings(id), MappingBody("h20.example.test", cert, key));

        Assert.Equal(413, post.Status);
        Assert.StartsWith("Certificate mapping limit reached", post.Body!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(before, await StateAsync(api, id));
        var limits = (await api.GetAsync("/loadbalancers/absolutelimits")).Body!["absolute"]!.AsArray();
        Assert.Contains(limits, l => l!["name"]!.GetValue<string>() == "CERTIFICATE_MAPPING_LIMIT" && l["value"]!.GetValue<int>() == 20);
    }

    [Fact]
    public async Task Put_HostNameOnly_Returns202AndKeepsTheCertificate()
    {
        var (api, id) = await WithSslTerminationAsync();
        var mappingId = await AddAsync(api, id, "one.example.test");
        var certificate = _host.DataPlane.Live[id].SslTermination!.CertificateMappings[0].Certificate;

        var put = await api.PutAsync($"{Mappings(id)}/{mappingId}", """{"certificateMapping":{"hostName":"*.example.test"}}""");

        Assert.Equal(202, put.Status);
        var live = Assert.Single(_host.DataPlane.Live[id].SslTermination!.CertificateMappings);
        Assert.Equal("*.example.test", live.HostName);
        Assert.Equal(certificate, live.Certificate);
        Assert.Equal(mappingId, live.Id);
    }

    [Fact]
    public async Task Put_NewCertificateAndKey_Returns202_NewCertificateAloneWithTheOldKey_Returns400()
    {
        var (api, id) = await WithSslTerminationAsync();
        var mappingId = await AddAsync(api, id, "one.example.test");
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime, "CN=renewed");
        var (lone, _) = TestCertificates.ValidAt(ApiHost.StartTime, "CN=lone");

        var both = await api.PutAsync($"{Mappings(id)}/{mappingId}",
            new JsonObject { ["certificateMapping"] = new JsonObject { ["certificate"] = cert, ["privateKey"] = key } }.ToJsonString());
        var before = await StateAsync(api, id);
        var alone = await api.PutAsync($"{Mappings(id)}/{mappingId}",
            new JsonObject { ["certificateMapping"] = new JsonObject { ["certificate"] = lone } }.ToJsonString());

        Assert.Equal(202, both.Status);
        Assert.Equal(400, alone.Status);
        Assert.Contains(alone.Messages, m => m.StartsWith("certificate, privateKey:", StringComparison.Ordinal));
        Assert.Equal(before, await StateAsync(api, id));
        Assert.Equal(cert, _host.DataPlane.Live[id].SslTermination!.CertificateMappings[0].Certificate);
    }

    [Fact]
    public async Task Put_EmptyIntermediateCertificate_RemovesTheChain()
    {
        var (api, id) = await WithSslTerminationAsync();
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        var (chain, _) = TestCertificates.ValidAt(ApiHost.StartTime, "CN=Intermediate");
        var post = await api.PostAsync(Mappings(id), MappingBody("one.example.test", cert, key, chain));
        var mappingId = post.Body!["certificateMapping"]!["id"]!.GetValue<int>();

        var put = await api.PutAsync($"{Mappings(id)}/{mappingId}", """{"certificateMapping":{"intermediateCertificate":""}}""");

        Assert.Equal(202, put.Status);
        Assert.Null(_host.DataPlane.Live[id].SslTermination!.CertificateMappings[0].IntermediateCertificate);
        Assert.Null((await api.GetAsync($"{Mappings(id)}/{mappingId}")).Body!["certificateMapping"]!["intermediateCertificate"]);
    }

    [Fact]
    public async Task Put_EmptyBodyIdOrHostNameOfAnotherMapping_RefusedAndChangesNothing()
    {
        var (api, id) = await WithSslTerminationAsync();
        var one = await AddAsync(api, id, "one.example.test");
        await AddAsync(api, id, "two.example.test");
        var before = await StateAsync(api, id);

        var empty = await api.PutAsync($"{Mappings(id)}/{one}", """{"certificateMapping":{}}""");
        var withId = await api.PutAsync($"{Mappings(id)}/{one}", """{"certificateMapping":{"id":77}}""");
        var clash = await api.PutAsync($"{Mappings(id)}/{one}", """{"certificateMapping":{"hostName":"Two.Example.Test"}}""");
        var same = await api.PutAsync($"{Mappings(id)}/{one}", """{"certificateMapping":{"hostName":"ONE.example.test"}}""");
        var missing = await api.PutAsync($"{Mappings(id)}/987654", """{"certificateMapping":{"hostName":"three.example.test"}}""");

        Assert.Equal(400, empty.Status);
        Assert.Contains(empty.Messages, m => m.StartsWith("certificateMapping: give at least one of", StringComparison.Ordinal));
        Assert.Equal(400, withId.Status);
        Assert.Equal(422, clash.Status);
        Assert.Equal(404, missing.Status);
        Assert.Equal("Certificate mapping not found", missing.Body!["message"]!.GetValue<string>());
        Assert.Equal(202, same.Status); // its own name in another case is no duplicate
        Assert.Equal(before.Replace("one.example.test", "ONE.example.test", StringComparison.Ordinal), await StateAsync(api, id));
    }

    [Fact]
    public async Task Delete_Mapping_Returns202AndRemovesIt_ThenDeleteAgainIs404()
    {
        var (api, id) = await WithSslTerminationAsync();
        var one = await AddAsync(api, id, "one.example.test");
        var two = await AddAsync(api, id, "two.example.test");

        var delete = await api.DeleteAsync($"{Mappings(id)}/{one}");
        var again = await api.DeleteAsync($"{Mappings(id)}/{one}");

        Assert.Equal(202, delete.Status);
        Assert.Equal(404, again.Status);
        Assert.Equal("Certificate mapping not found", again.Body!["message"]!.GetValue<string>());
        Assert.Equal(two, Assert.Single(_host.DataPlane.Live[id].SslTermination!.CertificateMappings).Id);
        Assert.Equal(404, (await api.GetAsync($"{Mappings(id)}/{one}")).Status);
    }

    [Fact]
    public async Task PutSslTermination_KeepsTheMappings_DeleteSslTermination_RemovesThem()
    {
        var (api, id) = await WithSslTerminationAsync();
        await AddAsync(api, id, "one.example.test");

        var change = await api.PutAsync($"/loadbalancers/{id}/ssltermination", """{"sslTermination":{"secureTrafficOnly":true}}""");
        var kept = _host.DataPlane.Live[id].SslTermination!.CertificateMappings.Length;
        var delete = await api.DeleteAsync($"/loadbalancers/{id}/ssltermination");
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        var again = await api.PutAsync($"/loadbalancers/{id}/ssltermination", new JsonObject
        {
            ["sslTermination"] = new JsonObject { ["certificate"] = cert, ["privateKey"] = key, ["securePort"] = ApiHost.NextPort() },
        }.ToJsonString());

        Assert.Equal(200, change.Status);
        Assert.Equal(1, kept);
        Assert.Equal(200, delete.Status);
        Assert.Equal(200, again.Status);
        Assert.Equal("""{"certificateMappings":[]}""", (await api.GetAsync(Mappings(id))).Text);
    }

    [Fact]
    public async Task Audit_CertificateMapping_NeverHoldsThePrivateKey()
    {
        var (api, id) = await WithSslTerminationAsync();
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        var post = await api.PostAsync(Mappings(id), MappingBody("one.example.test", cert, key));
        var mappingId = post.Body!["certificateMapping"]!["id"]!.GetValue<int>();
        var (cert2, key2) = TestCertificates.ValidAt(ApiHost.StartTime);
        await api.PutAsync($"{Mappings(id)}/{mappingId}",
            new JsonObject { ["certificateMapping"] = new JsonObject { ["certificate"] = cert2, ["privateKey"] = key2 } }.ToJsonString());
        await api.DeleteAsync($"/loadbalancers/{id}/ssltermination");

        var text = (await api.GetAsync("/audit?limit=3")).Text;

        Assert.Contains("[secret]", text, StringComparison.Ordinal);
        Assert.Contains("one.example.test", text, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", text, StringComparison.Ordinal);
        Assert.DoesNotContain(key.Split('\n')[1], text, StringComparison.Ordinal);
        Assert.DoesNotContain(key2.Split('\n')[1], text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Store_MappingsRoundTrip_AndOlderDocumentsLoadWithNone()
    {
        var (api, id) = await WithSslTerminationAsync();
        await AddAsync(api, id, "*.example.test");

        var stored = _host.Store.LoadAll().Single(c => c.Id == id).SslTermination!;
        var json = StoredLoadBalancer.Serialize(_host.Store.LoadAll().Single(c => c.Id == id));
        var older = JsonNode.Parse(json)!;
        older["sslTermination"]!.AsObject().Remove("certificateMappings");
        var loadedOlder = StoredLoadBalancer.Deserialize(older.ToJsonString());

        var mapping = Assert.Single(stored.CertificateMappings);
        Assert.Equal("*.example.test", mapping.HostName);
        Assert.Contains("PRIVATE KEY", mapping.PrivateKey, StringComparison.Ordinal);
        Assert.Contains("\"certificateMappings\"", json, StringComparison.Ordinal);
        Assert.Empty(loadedOlder.SslTermination!.CertificateMappings);
        Assert.DoesNotContain("certificateMappings", StoredLoadBalancer.Serialize(loadedOlder), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateLoadBalancer_WithSslTermination_Returns400AndCreatesNothing()
    {
        var api = _host.NewAccount();
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        var ssl = new JsonObject { ["certificate"] = cert, ["privateKey"] = key, ["securePort"] = ApiHost.NextPort() };

        var create = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(), "\"sslTermination\":" + ssl.ToJsonString()));

        Assert.Equal(400, create.Status);
        Assert.Contains(create.Messages, m => m.StartsWith("sslTermination: cannot be given at creation", StringComparison.Ordinal));
        Assert.Equal("""{"loadBalancers":[]}""", (await api.GetAsync("/loadbalancers")).Text);
    }
}

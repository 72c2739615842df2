using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tether.FunctionalTests.Infrastructure;
using Tether.Proxy;

namespace Tether.FunctionalTests;

/// <summary>Content caching on the data plane (issue 12, item 5; docs/api.md "Content caching"): a real Tether, a real
/// backend that counts the requests it gets per target, and one RFC 9111 rule per test. A hit is an answer the backend's
/// count does not see.</summary>
public sealed class ContentCachingTests(TetherFixture fixture) : IClassFixture<TetherFixture>, IAsyncLifetime
{
    private const string Caching = ",\"contentCaching\":{\"enabled\":true}";
    private readonly TetherInstance _tether = fixture.Tether;
    private readonly List<int> _created = [];
    private CacheBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await CacheBackend.StartAsync();

    public async Task DisposeAsync()
    {
        // One Tether serves the class: its load balancers go with each test (an account holds at most 25).
        foreach (var id in _created)
        {
            using var _ = await _tether.SendJsonAsync(HttpMethod.Delete, $"loadbalancers/{id}", null);
        }

        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task Get_MaxAgeAnswer_SecondIsServedFromCacheWithAgeAndTheNodesCacheControl()
    {
        using var client = await CachedClientAsync();

        using var first = await client.GetAsync("/p?cc=max-age%3D60");
        using var second = await client.GetAsync("/p?cc=max-age%3D60");

        Assert.Equal(1, _backend.Count("/p?cc=max-age%3D60"));
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Null(first.Headers.Age);
        Assert.NotNull(second.Headers.Age);
        Assert.Equal(["max-age=60"], first.Headers.GetValues("Cache-Control"));
        Assert.Equal(["max-age=60"], second.Headers.GetValues("Cache-Control"));
    }

    [Fact]
    public async Task Get_CachingOff_EveryRequestReachesTheNode()
    {
        var (_, port) = await CreateAsync("ROUND_ROBIN", [_backend.Port]);
        using var client = Clients.WithoutCookies(port);

        await GetTwiceAsync(client, "/off?cc=max-age%3D60");

        Assert.Equal(2, _backend.Count("/off?cc=max-age%3D60"));
    }

    [Fact]
    public async Task Put_ContentCachingOn_TakesEffectOnARunningLoadBalancer()
    {
        var (id, port) = await CreateAsync("ROUND_ROBIN", [_backend.Port]);
        using var client = Clients.WithoutCookies(port);
        await GetTwiceAsync(client, "/later?cc=max-age%3D60");

        using var put = await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/contentcaching", """{"contentCaching":{"enabled":true}}""");
        Assert.Equal(HttpStatusCode.Accepted, put.StatusCode);
        await GetTwiceAsync(client, "/later?cc=max-age%3D60");

        Assert.Equal(3, _backend.Count("/later?cc=max-age%3D60"));
    }

    [Theory]
    [InlineData("s-maxage%3D60")]
    [InlineData("public")]
    [InlineData("public%2C%20max-age%3D60")]
    [InlineData("max-age%3D60%2C%20must-revalidate")]
    public async Task Get_StorableAnswer_IsServedFromCache(string cacheControl)
    {
        using var client = await CachedClientAsync();
        var target = "/stored?cc=" + cacheControl;

        await GetTwiceAsync(client, target);

        Assert.Equal(1, _backend.Count(target));
    }

    [Fact]
    public async Task Get_ExpiresInTheFuture_IsServedFromCache()
    {
        using var client = await CachedClientAsync();

        await GetTwiceAsync(client, "/expires?expires=60");

        Assert.Equal(1, _backend.Count("/expires?expires=60"));
    }

    [Theory]
    [InlineData("no-store")]
    [InlineData("no-store%2C%20max-age%3D60")]
    [InlineData("private%2C%20max-age%3D60")]
    [InlineData("no-cache%2C%20max-age%3D60")]
    [InlineData("public%2C%20no-cache")]
    [InlineData("max-age%3D0")]
    [InlineData("")]
    public async Task Get_AnswerAsharedCacheMustNotReuse_ReachesTheNodeEachTime(string cacheControl)
    {
        using var client = await CachedClientAsync();
        var target = "/never?cc=" + cacheControl;

        await GetTwiceAsync(client, target);

        Assert.Equal(2, _backend.Count(target));
    }

    [Fact]
    public async Task Get_ExpiresInThePast_ReachesTheNodeEachTime()
    {
        using var client = await CachedClientAsync();

        await GetTwiceAsync(client, "/expired?expires=-60");

        Assert.Equal(2, _backend.Count("/expired?expires=-60"));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(404)]
    public async Task Get_ErrorAnswerWithMaxAge_IsNotCached(int status)
    {
        using var client = await CachedClientAsync();
        var target = $"/error?status={status}&cc=max-age%3D60";

        await GetTwiceAsync(client, target, (HttpStatusCode)status);

        Assert.Equal(2, _backend.Count(target));
    }

    [Fact]
    public async Task Get_RequestNoCache_GoesToTheNodeAndRefreshesTheEntry()
    {
        using var client = await CachedClientAsync();
        const string target = "/nocache?cc=max-age%3D60";
        await GetTwiceAsync(client, target);

        using var request = new HttpRequestMessage(HttpMethod.Get, target);
        request.Headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
        using var revalidated = await client.SendAsync(request);
        using var pragma = new HttpRequestMessage(HttpMethod.Get, target);
        pragma.Headers.Pragma.ParseAdd("no-cache");
        using var legacy = await client.SendAsync(pragma);
        using var after = await client.GetAsync(target);

        Assert.Equal(3, _backend.Count(target));
        Assert.Equal(await legacy.Content.ReadAsStringAsync(), await after.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Get_RequestNoStore_IsNotStored()
    {
        using var client = await CachedClientAsync();
        const string target = "/nostore?cc=max-age%3D60";

        using var request = new HttpRequestMessage(HttpMethod.Get, target);
        request.Headers.CacheControl = new CacheControlHeaderValue { NoStore = true };
        using var first = await client.SendAsync(request);
        using var second = await client.GetAsync(target);

        Assert.Equal(2, _backend.Count(target));
    }

    [Fact]
    public async Task Get_WithAuthorization_IsNeitherServedFromNorStoredInTheCache()
    {
        using var client = await CachedClientAsync();
        const string primed = "/auth?cc=s-maxage%3D60";
        await GetTwiceAsync(client, primed);

        using var withAuth = new HttpRequestMessage(HttpMethod.Get, primed);
        withAuth.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "alice");
        using var authorized = await client.SendAsync(withAuth);
        Assert.Equal(2, _backend.Count(primed));
        Assert.Contains("auth=Bearer alice", await authorized.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        const string personal = "/auth-first?cc=public%2C%20max-age%3D60";
        using var first = new HttpRequestMessage(HttpMethod.Get, personal);
        first.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "alice");
        using var alice = await client.SendAsync(first);
        using var anonymous = await client.GetAsync(personal);
        Assert.Equal(2, _backend.Count(personal));
        Assert.DoesNotContain("alice", await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_VaryAcceptEncoding_KeepsOneAnswerPerVariant()
    {
        using var client = await CachedClientAsync();
        const string target = "/vary?cc=max-age%3D60&vary=Accept-Encoding";

        var gzip1 = await GetWithEncodingAsync(client, target, "gzip");
        var br1 = await GetWithEncodingAsync(client, target, "br");
        var gzip2 = await GetWithEncodingAsync(client, target, "gzip");
        var br2 = await GetWithEncodingAsync(client, target, "br");

        Assert.Equal(2, _backend.Count(target));
        Assert.Contains("accept-encoding=gzip", gzip2, StringComparison.Ordinal);
        Assert.Contains("accept-encoding=br", br2, StringComparison.Ordinal);
        Assert.Equal(gzip1, gzip2);
        Assert.Equal(br1, br2);
    }

    [Fact]
    public async Task Get_VaryStar_IsNeverCached()
    {
        using var client = await CachedClientAsync();
        const string target = "/varystar?cc=max-age%3D60&vary=*";

        await GetTwiceAsync(client, target);

        Assert.Equal(2, _backend.Count(target));
    }

    [Fact]
    public async Task Get_TargetsDifferingOnlyInQueryOrCase_AreCachedApart()
    {
        using var client = await CachedClientAsync();
        string[] targets = ["/q?cc=max-age%3D60&a=1", "/q?cc=max-age%3D60&A=1", "/q?cc=max-age%3D60&a=2", "/Q?cc=max-age%3D60&a=1",
            "/q?a=1&cc=max-age%3D60"];

        foreach (var target in targets)
        {
            await GetTwiceAsync(client, target);
        }

        foreach (var target in targets)
        {
            Assert.Equal(1, _backend.Count(target));
        }
    }

    [Fact]
    public async Task Get_SameTargetOnTwoLoadBalancers_IsCachedPerLoadBalancer()
    {
        using var one = await CachedClientAsync();
        using var two = await CachedClientAsync();

        await GetTwiceAsync(one, "/two-lbs?cc=max-age%3D60");
        await GetTwiceAsync(two, "/two-lbs?cc=max-age%3D60");

        Assert.Equal(2, _backend.Count("/two-lbs?cc=max-age%3D60"));
    }

    [Fact]
    public async Task Get_AnotherLoadBalancersKeyAsPath_WithNoCacheAndTheVictimsHost_DoesNotPoisonTheVictim()
    {
        var (victimId, victimPort) = await CreateAsync("ROUND_ROBIN", [_backend.Port], extra: Caching);
        var (_, attackerPort) = await CreateAsync("ROUND_ROBIN", [_backend.Port], extra: Caching);
        using var attacker = Clients.WithoutCookies(attackerPort);
        using var victim = Clients.WithoutCookies(victimPort);

        // A request the cache does not look up but stores (no-cache), whose path spells the victim's key for
        // /static/page, sent with the victim's Host.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/{victimId}%7C/static/page");
        request.Headers.Host = $"127.0.0.1:{victimPort}";
        request.Headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
        using var planted = await attacker.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, planted.StatusCode);

        var body = await victim.GetStringAsync("/static/page");

        Assert.Equal(1, _backend.Count("/static/page"));
        Assert.StartsWith("/static/page #", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_HttpCookiePersistence_MissIsStoredWithoutTheCookie_AndAHitNeverCarriesAnotherClientsCookie()
    {
        var (_, port) = await CreateAsync("ROUND_ROBIN", [_backend.Port], """{"persistenceType":"HTTP_COOKIE"}""", extra: Caching);
        using var alice = Clients.WithCookieJar(port, out var aliceJar);
        using var bob = Clients.WithoutCookies(port);
        const string target = "/persist?cc=max-age%3D60";

        // Alice's first answer carries her new persistence cookie, exactly once, and is stored without it.
        using var issued = await alice.GetAsync(target);
        Assert.Single(issued.Headers.GetValues("Set-Cookie"));
        Assert.Single(aliceJar.GetAllCookies());
        Assert.Equal(1, _backend.Count(target));

        using var again = await alice.GetAsync(target);
        using var hit = await bob.GetAsync(target);

        Assert.Equal(1, _backend.Count(target));
        Assert.NotNull(again.Headers.Age);
        Assert.NotNull(hit.Headers.Age);
        Assert.False(again.Headers.Contains("Set-Cookie"));
        Assert.False(hit.Headers.Contains("Set-Cookie"));
        Assert.Equal(await issued.Content.ReadAsStringAsync(), await hit.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Get_NodeSetsACookie_TheAnswerIsNeverStoredSoNoClientGetsAnothersCookie()
    {
        var (_, port) = await CreateAsync("ROUND_ROBIN", [_backend.Port], """{"persistenceType":"APP_COOKIE","cookieName":"sid"}""", extra: Caching);
        using var alice = Clients.WithoutCookies(port);
        using var bob = Clients.WithoutCookies(port);
        const string target = "/app-cookie?cc=public%2C%20max-age%3D60&cookie=sid";

        using var first = await alice.GetAsync(target);
        using var second = await bob.GetAsync(target);

        Assert.Equal(2, _backend.Count(target));
        var aliceSid = Assert.Single(first.Headers.GetValues("Set-Cookie"));
        var bobSid = Assert.Single(second.Headers.GetValues("Set-Cookie"));
        Assert.NotEqual(aliceSid, bobSid);
    }

    [Fact]
    public async Task Get_ThenHead_HeadIsNeverAnsweredWithTheStoredGetNorTheOtherWayRound()
    {
        using var client = await CachedClientAsync();
        const string target = "/head?cc=max-age%3D60";
        var body = await client.GetStringAsync(target);

        using (var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, target)))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }

        var again = await client.GetStringAsync(target);

        // GET, HEAD (its own key: it reached the node), GET (a hit with the first GET's body).
        Assert.Equal(2, _backend.Count(target));
        Assert.Equal(body, again);
    }

    [Fact]
    public async Task Get_AccessListDeniesTheClient_AfterPriming_IsRefusedNotServedFromCache()
    {
        var (id, port) = await CreateAsync("ROUND_ROBIN", [_backend.Port], extra: Caching);
        using (var client = Clients.WithoutCookies(port))
        {
            await GetTwiceAsync(client, "/denied?cc=max-age%3D60");
        }

        using var post = await _tether.SendJsonAsync(HttpMethod.Post, $"loadbalancers/{id}/accesslist",
            """{"accessList":[{"address":"127.0.0.0/8","type":"DENY"}]}""");
        Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);

        using var denied = Clients.WithoutCookies(port);
        await Assert.ThrowsAsync<HttpRequestException>(() => denied.GetAsync("/denied?cc=max-age%3D60"));
    }

    [Fact]
    public async Task Get_ConnectionLoggingOn_AHitIsLoggedWithoutANode()
    {
        var (id, port) = await CreateAsync("ROUND_ROBIN", [_backend.Port], extra: Caching + ",\"connectionLogging\":{\"enabled\":true}");
        using var client = Clients.WithoutCookies(port);

        await GetTwiceAsync(client, "/logged?cc=max-age%3D60");

        var lines = await _tether.WaitForConnectionLogLinesAsync(id, 2);
        Assert.Equal(2, lines.Length);
        Assert.EndsWith($"/127.0.0.1:{_backend.Port}", lines[0].Split(' ')[3], StringComparison.Ordinal);
        Assert.Equal("-", lines[1].Split(' ')[3]);
        Assert.Equal("200", lines[1].Split(' ')[5]);
        Assert.EndsWith("\"GET /logged\"", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_CountHitsAndMisses()
    {
        var (id, port) = await CreateAsync("ROUND_ROBIN", [_backend.Port], extra: Caching);
        using var client = Clients.WithoutCookies(port);
        for (var i = 0; i < 4; i++)
        {
            using var response = await client.GetAsync("/metrics-page?cc=max-age%3D60");
        }

        using var scrape = new HttpClient();
        var text = await scrape.GetStringAsync(new Uri(_tether.Api.BaseAddress!, "/metrics"));

        Assert.Contains($"tether_content_cache_requests_total{{load_balancer=\"{id}\",load_balancer_name=\"lb\",result=\"hit\"}} 3", text, StringComparison.Ordinal);
        Assert.Contains($"tether_content_cache_requests_total{{load_balancer=\"{id}\",load_balancer_name=\"lb\",result=\"miss\"}} 1", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_CacheFull_EvictsSoAtMostItsSizeIsServedFromMemory_AndLargeAnswersAreNotStored()
    {
        await using var small = await TetherInstance.StartAsync(proxyOptions: new ProxyOptions
        {
            ShutdownTimeoutSeconds = 5,
            ContentCacheSizeMegabytes = 1,
            ContentCacheMaxAnswerKilobytes = 256,
        });
        var (_, port) = await small.CreateLoadBalancerAsync("ROUND_ROBIN", [_backend.Port], extra: Caching);
        using var client = Clients.WithoutCookies(port);

        // 10 answers of 200 KB: 2 MB, twice what the cache may hold.
        var targets = Enumerable.Range(0, 10).Select(i => $"/big{i}?cc=max-age%3D60&size=204800").ToArray();
        foreach (var target in targets)
        {
            using var response = await client.GetAsync(target);
            Assert.Equal(204800, (await response.Content.ReadAsByteArrayAsync()).Length);
        }

        foreach (var target in targets)
        {
            using var response = await client.GetAsync(target);
            Assert.Equal(204800, (await response.Content.ReadAsByteArrayAsync()).Length);
        }

        // At most 5 of the 10 (1 MB / 200 KB) can have been answered from the cache.
        Assert.True(targets.Sum(_backend.Count) >= 15, $"the node saw {targets.Sum(_backend.Count)} requests");

        // An answer over ContentCacheMaxAnswerKilobytes is relayed whole and never stored.
        await GetTwiceAsync(client, "/huge?cc=max-age%3D60&size=307200");
        Assert.Equal(2, _backend.Count("/huge?cc=max-age%3D60&size=307200"));
    }

    private async Task<(int Id, int Port)> CreateAsync(string algorithm, IEnumerable<int> nodePorts, string? persistenceJson = null, string? extra = null)
    {
        var created = await _tether.CreateLoadBalancerAsync(algorithm, nodePorts, persistenceJson, extra: extra);
        _created.Add(created.Id);
        return created;
    }

    private async Task<HttpClient> CachedClientAsync()
    {
        var (_, port) = await CreateAsync("ROUND_ROBIN", [_backend.Port], extra: Caching);
        return Clients.WithoutCookies(port);
    }

    private static async Task GetTwiceAsync(HttpClient client, string target, HttpStatusCode expected = HttpStatusCode.OK)
    {
        for (var i = 0; i < 2; i++)
        {
            using var response = await client.GetAsync(target);
            Assert.Equal(expected, response.StatusCode);
            await response.Content.ReadAsByteArrayAsync();
        }
    }

    private static async Task<string> GetWithEncodingAsync(HttpClient client, string target, string encoding)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, target);
        request.Headers.AcceptEncoding.ParseAdd(encoding);
        using var response = await client.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>A backend whose answers say how to cache them, by query: <c>cc</c> (Cache-Control), <c>expires</c>
    /// (Expires, seconds from now), <c>vary</c>, <c>status</c>, <c>size</c> (body bytes), <c>cookie</c> (a Set-Cookie of
    /// that name with a fresh value); a path holding <c>/static/</c> without <c>cc</c> answers <c>max-age=60</c>. The body names the target, a serial number and the request's Accept-Encoding and
    /// Authorization; <see cref="Count"/> counts the requests per raw target.</summary>
    private sealed class CacheBackend : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
        private int _serial;

        private CacheBackend(WebApplication app) => _app = app;

        public int Port { get; private set; }

        public int Count(string target) => _counts.GetValueOrDefault(target);

        public static async Task<CacheBackend> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var self = new CacheBackend(app);
            app.Run(async context =>
            {
                var request = context.Request;
                var target = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget;
                self._counts.AddOrUpdate(target, 1, (_, n) => n + 1);
                var serial = Interlocked.Increment(ref self._serial);
                var response = context.Response;
                var query = request.Query;
                if (query.TryGetValue("status", out var status))
                {
                    response.StatusCode = int.Parse(status!, System.Globalization.CultureInfo.InvariantCulture);
                }

                if (query.TryGetValue("cc", out var cc) && cc.ToString().Length > 0)
                {
                    response.Headers.CacheControl = cc.ToString();
                }
                else if (request.Path.Value!.Contains("/static/", StringComparison.Ordinal))
                {
                    response.Headers.CacheControl = "max-age=60";
                }

                if (query.TryGetValue("expires", out var expires))
                {
                    response.Headers.Expires = DateTimeOffset.UtcNow.AddSeconds(int.Parse(expires!, System.Globalization.CultureInfo.InvariantCulture)).ToString("R");
                }

                if (query.TryGetValue("vary", out var vary))
                {
                    response.Headers.Vary = vary.ToString();
                }

                if (query.TryGetValue("cookie", out var cookie))
                {
                    response.Headers.SetCookie = $"{cookie}=v{serial}; Path=/";
                }

                byte[] body;
                if (query.TryGetValue("size", out var size))
                {
                    body = TestBackend.Pattern(int.Parse(size!, System.Globalization.CultureInfo.InvariantCulture));
                }
                else
                {
                    body = Encoding.UTF8.GetBytes($"{target} #{serial} accept-encoding={request.Headers.AcceptEncoding} auth={request.Headers.Authorization}");
                }

                response.ContentLength = body.Length;
                if (!HttpMethods.IsHead(request.Method))
                {
                    await response.Body.WriteAsync(body, context.RequestAborted);
                }
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            self.Port = new Uri(address).Port;
            return self;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

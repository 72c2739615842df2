using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace Tether.Management.Tests.Endpoints;

/// <summary>
/// Fuzzes every write endpoint of the API (issue 11, item 1) with mutated valid bodies: wrong types, huge numbers,
/// invalid UTF-8, unpaired surrogates, deep nesting, unknown and misspelled fields, duplicate keys, truncation, wrong
/// shapes. Asserts: no 5xx; every 4xx carries the API's error body with a reason; a refused request changes nothing
/// (the GETs before and after are equal). Seeded: <c>TETHER_API_FUZZ_SEED</c> (default 11) and
/// <c>TETHER_API_FUZZ_BODIES</c> (default 2000, about 15 s on a loaded 2-core machine).
/// </summary>
public sealed class ApiFuzzTests(RuntimeApiHostFixture fixture, ITestOutputHelper output) : IClassFixture<RuntimeApiHostFixture>
{
    private const int DefaultBodies = 2000;
    private const int DefaultSeed = 11;

    private static readonly string[] NastyValues =
    [
        "1.5", "-1", "0", "4294967297", "9223372036854775808", "1e400", "-1e400", "1e-400", "1E2", "-0", "0.0",
        "123456789012345678901234567890123456789012345678901234567890", "\"80\"", "\"\"", "\"ENABLED\"", "\"HTTP\"",
        "true", "false", "null", "[]", "{}", "[1]", "{\"a\":1}", "\"\\u0000\"", "\"10.0.0.1\"", "\"::1\"", "\"/\"", "65536", "2147483648", "-2147483649",
        "\"" + new string('x', 3000) + "\"", "[{\"address\":\"10.0.0.2\",\"port\":80}]",
    ];

    private static readonly byte[][] InvalidUtf8 =
    [
        [0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xC0, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80], [0x80],
    ];

    private static readonly string[] Surrogates = ["\\ud800", "\\udc00", "\\udbff\\u0041", "\\ud800\\ud800"];

    private readonly ApiHost _host = fixture.Host;

    private sealed record Target(string Name, HttpMethod Method, Func<Context, string> Path, Func<Context, string> Seed);

    private sealed class Context
    {
        public required ApiClient Api { get; init; }

        public int LoadBalancerId { get; set; }

        public int NodeId { get; set; }

        /// <summary>A second ENABLED node, the target of the session move.</summary>
        public int OtherNodeId { get; set; }

        public int MappingId { get; set; }

        public int Mappings { get; set; }
        public int MetaId { get; set; }

        public int NodeMetaId { get; set; }

        public required string Certificate { get; init; }

        public required string PrivateKey { get; init; }
    }

    private static readonly Target[] Targets =
    [
        new("create load balancer", HttpMethod.Post, _ => "/loadbalancers", _ =>
            "{\"loadBalancer\":{\"name\":\"fuzz\",\"protocol\":\"HTTP\",\"port\":" + ApiHost.NextPort() + """
            ,"algorithm":"ROUND_ROBIN","timeout":30,"halfClosed":false,"httpsRedirect":false,"virtualIps":[{"type":"PUBLIC"}],
             "nodes":[{"address":"10.0.0.1","port":80,"condition":"ENABLED","type":"PRIMARY","weight":1}],
             "sessionPersistence":{"persistenceType":"HTTP_COOKIE","cookieName":"s"},
             "healthMonitor":{"type":"CONNECT","delay":10,"timeout":5,"attemptsBeforeDeactivation":3},
             "metadata":[{"key":"k","value":"v"}],"connectionLogging":{"enabled":false},
             "accessList":[{"address":"10.2.0.0/16","type":"DENY"}],"connectionThrottle":{"maxConnections":10},
             "contentCaching":{"enabled":true},"slowStartSeconds":30}}
            """),
        new("update load balancer", HttpMethod.Put, c => $"/loadbalancers/{c.LoadBalancerId}", _ => """
            {"loadBalancer":{"name":"renamed","algorithm":"LEAST_CONNECTIONS","timeout":60,"halfClosed":false,"slowStartSeconds":60}}
            """),
        new("add nodes", HttpMethod.Post, c => $"/loadbalancers/{c.LoadBalancerId}/nodes", _ => """
            {"nodes":[{"address":"10.0.9.9","port":8081,"condition":"ENABLED","type":"PRIMARY","weight":5}]}
            """),
        new("update node", HttpMethod.Put, c => $"/loadbalancers/{c.LoadBalancerId}/nodes/{c.NodeId}", _ => """
            {"node":{"condition":"ENABLED","type":"PRIMARY","weight":3}}
            """),
        new("session persistence", HttpMethod.Put, c => $"/loadbalancers/{c.LoadBalancerId}/sessionpersistence", _ => """
            {"sessionPersistence":{"persistenceType":"HTTP_COOKIE","cookieName":"s","persistenceTimeout":600,
             "disableFallback":false,"cookiePath":"/","cookieDomain":"example.com","cookieSecure":true,
             "cookieHttpOnly":true,"cookieSameSite":"Lax"}}
            """),
        new("session persistence (HEADER)", HttpMethod.Put, c => $"/loadbalancers/{c.LoadBalancerId}/sessionpersistence", _ => """
            {"sessionPersistence":{"persistenceType":"HEADER","headerName":"X-Session-Id","hashBalanceFactor":125,
             "persistenceTimeout":600,"disableFallback":false}}
            """),
        new("session persistence (SOURCE_IP bounded)", HttpMethod.Put, c => $"/loadbalancers/{c.LoadBalancerId}/sessionpersistence", _ => """
            {"sessionPersistence":{"persistenceType":"SOURCE_IP","hashBalanceFactor":1000,"persistenceTimeout":300}}
            """),
        new("health monitor", HttpMethod.Put, c => $"/loadbalancers/{c.LoadBalancerId}/healthmonitor", _ => """
            {"healthMonitor":{"type":"HTTP","delay":10,"timeout":5,"attemptsBeforeDeactivation":3,"path":"/",
             "statusRegex":"^[234][0-9][0-9]$","bodyRegex":".*","hostHeader":"example.com"}}
            """),
        new("access list", HttpMethod.Post, c => $"/loadbalancers/{c.LoadBalancerId}/accesslist", _ => """
            {"accessList":[{"address":"10.1.0.0/16","type":"DENY"},{"address":"192.0.2.1","type":"ALLOW"}]}
            """),
        new("connection throttle", HttpMethod.Put, c => $"/loadbalancers/{c.LoadBalancerId}/connectionthrottle", _ => """
            {"connectionThrottle":{"maxConnections":100,"minConnections":1,"maxConnectionRate":10,"rateInterval":60}}
            """),
        new("error page", HttpMethod.Put, c => $"/loadbalancers/{c.LoadBalancerId}/errorpage", _ => """
            {"errorpage":{"content":"<html><body>sorry</body></html>"}}
            """),
        new("connection logging", HttpMethod.Put, c => $"/loadbalancers/{c.LoadBalancerId}/connectionlogging", _ => """
            {"connectionLogging":{"enabled":true}}
            """),
        new("add virtual ip", HttpMethod.Post, c => $"/loadbalancers/{c.LoadBalancerId}/virtualips", _ => """
            {"ipVersion":"IPV6","type":"PUBLIC"}
            """),
        new("content caching", HttpMethod.Put, c => $"/loadbalancers/{c.LoadBalancerId}/contentcaching", _ => """
            {"contentCaching":{"enabled":true}}
            """),
        new("ssl termination", HttpMethod.Put, c => $"/loadbalancers/{c.LoadBalancerId}/ssltermination", c =>
            new JsonObject
            {
                ["sslTermination"] = new JsonObject
                {
                    ["certificate"] = c.Certificate,
                    ["privateKey"] = c.PrivateKey,
                    ["securePort"] = ApiHost.NextPort(),
                    ["enabled"] = true,
                    ["secureTrafficOnly"] = false,
                },
            }.ToJsonString()),
        new("add certificate mapping", HttpMethod.Post, c => $"/loadbalancers/{c.LoadBalancerId}/ssltermination/certificatemappings", c =>
            new JsonObject
            {
                ["certificateMapping"] = new JsonObject
                {
                    ["hostName"] = $"m{++c.Mappings}.example.test",
                    ["certificate"] = c.Certificate,
                    ["privateKey"] = c.PrivateKey,
                    ["intermediateCertificate"] = c.Certificate,
                },
            }.ToJsonString()),
        new("update certificate mapping", HttpMethod.Put,
            c => $"/loadbalancers/{c.LoadBalancerId}/ssltermination/certificatemappings/{c.MappingId}", c =>
            new JsonObject
            {
                ["certificateMapping"] = new JsonObject
                {
                    ["hostName"] = $"*.u{++c.Mappings}.example.test",
                    ["certificate"] = c.Certificate,
                    ["privateKey"] = c.PrivateKey,
                },
            }.ToJsonString()),
        new("add metadata", HttpMethod.Post, c => $"/loadbalancers/{c.LoadBalancerId}/metadata", _ => """
            {"metadata":[{"key":"color","value":"red"},{"key":"label","value":"web-load-balancer"}]}
            """),
        new("update metadata", HttpMethod.Put, c => $"/loadbalancers/{c.LoadBalancerId}/metadata/{c.MetaId}", _ => """
            {"meta":{"value":"blue"}}
            """),
        new("add node metadata", HttpMethod.Post, c => $"/loadbalancers/{c.LoadBalancerId}/nodes/{c.NodeId}/metadata", _ => """
            {"metadata":[{"key":"rack","value":"r1"}]}
            """),
        new("update node metadata", HttpMethod.Put, c => $"/loadbalancers/{c.LoadBalancerId}/nodes/{c.NodeId}/metadata/{c.NodeMetaId}", _ => """
            {"meta":{"value":"r2"}}
            """),
        new("move sessions", HttpMethod.Post, c => $"/loadbalancers/{c.LoadBalancerId}/sessionpersistence/sessions/move", c =>
            $$$"""{"sessionMove":{"fromNodeId":{{{c.NodeId}}},"toNodeId":{{{c.OtherNodeId}}},"fraction":0.5}}"""),
    ];

    [Fact]
    public async Task WriteEndpoints_FuzzedBodies_NeverAnswer5xxAndRefusalsChangeNothing()
    {
        var bodies = ReadSetting("TETHER_API_FUZZ_BODIES", DefaultBodies);
        var seed = ReadSetting("TETHER_API_FUZZ_SEED", DefaultSeed);
        var random = new Random(seed);
        var (certificate, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        var context = new Context { Api = _host.NewAccount(), Certificate = certificate, PrivateKey = key };
        await ResetAsync(context);

        var failures = new List<string>();
        int accepted = 0, refused = 0, serverErrors = 0, stateChanges = 0;
        var byStatus = new SortedDictionary<int, int>();
        var before = await SnapshotAsync(context);
        for (var i = 0; i < bodies && failures.Count < 20; i++)
        {
            var target = Targets[random.Next(Targets.Length)];
            var body = Mutate(target.Seed(context), random);
            var path = target.Path(context);
            var response = await context.Api.SendBytesAsync(target.Method, path, body);
            byStatus[response.Status] = byStatus.GetValueOrDefault(response.Status) + 1;
            var shown = $"#{i} {target.Method} {path} body(base64)={Convert.ToBase64String(body)} text={Printable(body)}";
            if (response.Status >= 500)
            {
                serverErrors++;
                failures.Add($"{shown} -> {response}");
                before = await SnapshotAsync(context);
                continue;
            }

            if (response.Status >= 400)
            {
                refused++;
                if (ErrorBodyProblem(response) is { } problem)
                {
                    failures.Add($"{shown} -> {problem}: {response}");
                }

                var after = await SnapshotAsync(context);
                if (after != before)
                {
                    stateChanges++;
                    failures.Add($"{shown} -> {response.Status} but the state changed:\n before {before}\n after  {after}");
                    before = after;
                }

                continue;
            }

            accepted++;
            await UndoAsync(context, target, response);
            before = await SnapshotAsync(context);
        }

        var figure = $"API fuzz (seed {seed}): {accepted + refused + serverErrors} bodies over {Targets.Length} write endpoints, "
            + $"{accepted} accepted, {refused} refused (4xx), {serverErrors} 5xx, {stateChanges} state changes by a refused request; "
            + $"statuses {string.Join(", ", byStatus.Select(p => $"{p.Key}: {p.Value}"))}";
        output.WriteLine(figure);
        Console.WriteLine(figure);
        Assert.True(failures.Count == 0, figure + "\n" + string.Join("\n", failures));
        Assert.True(refused > bodies / 2, figure);
    }

    private static int ReadSetting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : fallback;

    /// <summary>Creates (again) the HTTP load balancer the per-load-balancer endpoints write to.</summary>
    private static async Task ResetAsync(Context context)
    {
        if (context.LoadBalancerId != 0)
        {
            await context.Api.DeleteAsync($"/loadbalancers/{context.LoadBalancerId}");
        }

        context.LoadBalancerId = await context.Api.CreateLoadBalancerAsync();
        var nodes = await context.Api.GetAsync($"/loadbalancers/{context.LoadBalancerId}/nodes");
        context.NodeId = nodes.Body!["nodes"]![0]!["id"]!.GetValue<int>();
        var other = await context.Api.PostAsync($"/loadbalancers/{context.LoadBalancerId}/nodes", """{"nodes":[{"address":"10.0.0.2","port":80,"condition":"ENABLED"}]}""");
        Assert.True(other.Status == 202, other.ToString());
        context.OtherNodeId = other.Body!["nodes"]![0]!["id"]!.GetValue<int>();

        // SSL termination with one certificate mapping, for the certificate mapping endpoints.
        var ssl = new JsonObject
        {
            ["sslTermination"] = new JsonObject
            {
                ["certificate"] = context.Certificate,
                ["privateKey"] = context.PrivateKey,
                ["securePort"] = ApiHost.NextPort(),
            },
        };
        Assert.Equal(200, (await context.Api.PutAsync($"/loadbalancers/{context.LoadBalancerId}/ssltermination", ssl.ToJsonString())).Status);
        var mapping = new JsonObject
        {
            ["certificateMapping"] = new JsonObject
            {
                ["hostName"] = "fuzz.example.test",
                ["certificate"] = context.Certificate,
                ["privateKey"] = context.PrivateKey,
            },
        };
        var added = await context.Api.PostAsync($"/loadbalancers/{context.LoadBalancerId}/ssltermination/certificatemappings", mapping.ToJsonString());
        Assert.True(added.Status == 202, added.ToString());
        context.MappingId = added.Body!["certificateMapping"]!["id"]!.GetValue<int>();
        var meta = await context.Api.PostAsync($"/loadbalancers/{context.LoadBalancerId}/metadata", """{"metadata":[{"key":"seed","value":"v"}]}""");
        context.MetaId = meta.Body!["metadata"]![0]!["id"]!.GetValue<int>();
        var nodeMeta = await context.Api.PostAsync($"/loadbalancers/{context.LoadBalancerId}/nodes/{context.NodeId}/metadata",
            """{"metadata":[{"key":"seed","value":"v"}]}""");
        context.NodeMetaId = nodeMeta.Body!["metadata"]![0]!["id"]!.GetValue<int>();
    }

    /// <summary>Takes back what an accepted body added, so that the account stays under its limits.</summary>
    private static async Task UndoAsync(Context context, Target target, ApiResponse response)
    {
        var api = context.Api;
        switch (target.Name)
        {
            case "create load balancer":
                await api.DeleteAsync($"/loadbalancers/{response.Body!["loadBalancer"]!["id"]!.GetValue<int>()}");
                break;
            case "add nodes":
                var ids = response.Body!["nodes"]!.AsArray().Select(n => "id=" + n!["id"]!.GetValue<int>());
                Assert.Equal(202, (await api.DeleteAsync($"/loadbalancers/{context.LoadBalancerId}/nodes?{string.Join('&', ids)}")).Status);
                break;
            case "add certificate mapping":
                var mappingId = response.Body!["certificateMapping"]!["id"]!.GetValue<int>();
                Assert.Equal(202, (await api.DeleteAsync($"/loadbalancers/{context.LoadBalancerId}/ssltermination/certificatemappings/{mappingId}")).Status);
                break;
            case "access list":
                await api.DeleteAsync($"/loadbalancers/{context.LoadBalancerId}/accesslist");
                break;
            case "add metadata" or "add node metadata":
                var metaIds = response.Body!["metadata"]!.AsArray().Select(m => "id=" + m!["id"]!.GetValue<int>());
                var owner = target.Name == "add metadata"
                    ? $"/loadbalancers/{context.LoadBalancerId}/metadata"
                    : $"/loadbalancers/{context.LoadBalancerId}/nodes/{context.NodeId}/metadata";
                Assert.Equal(200, (await api.DeleteAsync($"{owner}?{string.Join('&', metaIds)}")).Status);
                break;
            case "add virtual ip":
                Assert.Equal(202, (await api.DeleteAsync($"/loadbalancers/{context.LoadBalancerId}/virtualips/{response.Body!["id"]!.GetValue<int>()}")).Status);
                break;
            case "update load balancer":
                var lb = (await api.GetAsync($"/loadbalancers/{context.LoadBalancerId}")).Body!["loadBalancer"]!;
                if (lb["protocol"]!.GetValue<string>() != "HTTP")
                {
                    await ResetAsync(context);
                }

                break;
        }
    }

    /// <summary>Everything a refused request could have changed, as GET shows it.</summary>
    private static async Task<string> SnapshotAsync(Context context)
    {
        var api = context.Api;
        var id = context.LoadBalancerId;
        var parts = new[]
        {
            await api.GetAsync("/loadbalancers"),
            await api.GetAsync($"/loadbalancers/{id}"),
            await api.GetAsync($"/loadbalancers/{id}/errorpage"),
            await api.GetAsync($"/loadbalancers/{id}/ssltermination"),
            await api.GetAsync($"/loadbalancers/{id}/ssltermination/certificatemappings"),
            await api.GetAsync($"/loadbalancers/{id}/ssltermination/certificatemappings/{context.MappingId}"),
        };
        return string.Join("\n", parts.Select(p => p.Status + " " + p.Text));
    }

    /// <summary>Null when a 4xx answer is the API's error body with a reason; otherwise what is wrong with it.</summary>
    private static string? ErrorBodyProblem(ApiResponse response)
    {
        if (response.Body is not JsonObject body)
        {
            return "the 4xx answer is not a JSON object";
        }

        if (body["message"] is not JsonValue message || message.GetValueKind() != System.Text.Json.JsonValueKind.String
            || string.IsNullOrWhiteSpace(message.GetValue<string>()))
        {
            return "the 4xx answer has no message";
        }

        if (body["code"] is not JsonValue code || code.GetValueKind() != System.Text.Json.JsonValueKind.Number
            || code.GetValue<int>() != response.Status)
        {
            return "the 4xx answer's code is not its status";
        }

        if (message.GetValue<string>() == "Validation Failure"
            && (response.Messages.Count == 0 || response.Messages.Any(string.IsNullOrWhiteSpace)))
        {
            return "a validation failure without a reason";
        }

        return null;
    }

    /// <summary>One to three structural mutations of the seed, then, one time in three, a byte-level one.</summary>
    private static byte[] Mutate(string seed, Random random)
    {
        var node = JsonNode.Parse(seed)!;
        var text = seed;
        var rounds = 1 + random.Next(3);
        for (var round = 0; round < rounds; round++)
        {
            var kind = random.Next(10);
            if (kind <= 6)
            {
                node = MutateTree(node, random);
                text = node.ToJsonString();
            }
            else
            {
                // Text-level mutations come last: duplicate keys cannot be held by a JsonObject.
                text = MutateText(node.ToJsonString(), random);
                break;
            }
        }

        var bytes = Encoding.UTF8.GetBytes(text);
        return random.Next(3) == 0 ? MutateBytes(bytes, random) : bytes;
    }

    private static JsonNode MutateTree(JsonNode root, Random random)
    {
        var all = new List<JsonNode>();
        Collect(root, all);
        var target = all[random.Next(all.Count)];
        switch (random.Next(8))
        {
            case 0 or 1:
                return Replace(root, target, JsonNode.Parse(NastyValues[random.Next(NastyValues.Length)]));
            case 2:
                if (target.Parent is JsonObject parent)
                {
                    parent.Remove(target.GetPropertyName());
                }

                return root;
            case 3:
                if (ObjectOf(target) is { } forUnknown)
                {
                    forUnknown[UnknownName(forUnknown, random)] = JsonNode.Parse(NastyValues[random.Next(NastyValues.Length)]);
                }

                return root;
            case 4:
                if (target.Parent is JsonObject renamed)
                {
                    var name = target.GetPropertyName();
                    renamed.Remove(name);
                    renamed[Typo(name, random)] = target;
                }

                return root;
            case 5:
                var depth = 1 + random.Next(random.Next(2) == 0 ? 40 : 200);
                var nested = new StringBuilder();
                for (var d = 0; d < depth; d++)
                {
                    nested.Append(random.Next(2) == 0 ? "[" : "{\"a\":");
                }

                nested.Append('1');
                var opened = nested.ToString();
                for (var d = opened.Length - 2; d >= 0; d--)
                {
                    if (opened[d] == '[')
                    {
                        nested.Append(']');
                    }
                    else if (opened[d] == '{')
                    {
                        nested.Append('}');
                    }
                }

                try
                {
                    return Replace(root, target, JsonNode.Parse(nested.ToString(), documentOptions: new() { MaxDepth = 1000 }));
                }
                catch (System.Text.Json.JsonException)
                {
                    return root;
                }

            case 6:
                return random.Next(5) switch
                {
                    0 => new JsonArray(root),
                    1 => JsonValue.Create("body"),
                    2 => JsonValue.Create(42),
                    3 => root is JsonObject o && o.Count == 1 ? o.First().Value!.DeepClone() : root,
                    _ => new JsonObject { ["wrapper"] = root },
                };
            default:
                if (target is JsonArray array && array.Count > 0)
                {
                    array.Add(array[random.Next(array.Count)]!.DeepClone());
                }
                else if (target is JsonObject emptied)
                {
                    emptied.Clear();
                }

                return root;
        }
    }

    private static string MutateText(string text, Random random)
    {
        switch (random.Next(5))
        {
            case 0:
                // A duplicate key: the first property of some object written twice.
                var brace = Positions(text, "{\"").ToList();
                if (brace.Count == 0)
                {
                    return text;
                }

                var at = brace[random.Next(brace.Count)];
                var end = text.IndexOf(',', at);
                return end < 0 ? text : text[..(at + 1)] + text[(at + 1)..(end + 1)] + text[(at + 1)..];
            case 1:
                // An unpaired surrogate escape inside a string or a property name.
                var quotes = Positions(text, "\"").ToList();
                if (quotes.Count == 0)
                {
                    return text;
                }

                var q = quotes[random.Next(quotes.Count)] + 1;
                return text[..q] + Surrogates[random.Next(Surrogates.Length)] + text[q..];
            case 2:
                return text[..random.Next(text.Length + 1)];
            case 3:
                return text.Replace(":", ": \t\r\n ", StringComparison.Ordinal);
            default:
                var numbers = Positions(text, ":").ToList();
                if (numbers.Count == 0)
                {
                    return text;
                }

                var n = numbers[random.Next(numbers.Count)] + 1;
                return text[..n] + NastyValues[random.Next(NastyValues.Length)] + "," + "\"x\":" + text[n..];
        }
    }

    private static byte[] MutateBytes(byte[] bytes, Random random)
    {
        var list = new List<byte>(bytes);
        switch (random.Next(3))
        {
            case 0:
            case 1:
                // Invalid UTF-8 right after a quote: inside a string value or a property name.
                var quotes = Enumerable.Range(0, list.Count).Where(i => list[i] == (byte)'"').ToList();
                var at = quotes.Count == 0 ? random.Next(list.Count + 1) : quotes[random.Next(quotes.Count)] + 1;
                list.InsertRange(at, InvalidUtf8[random.Next(InvalidUtf8.Length)]);
                break;
            default:
                if (list.Count > 0)
                {
                    list[random.Next(list.Count)] = (byte)random.Next(256);
                }

                break;
        }

        return [.. list];
    }

    private static IEnumerable<int> Positions(string text, string what)
    {
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal))
        {
            yield return i;
        }
    }

    private static void Collect(JsonNode? node, List<JsonNode> all)
    {
        if (node is null)
        {
            return;
        }

        all.Add(node);
        if (node is JsonObject obj)
        {
            foreach (var (_, child) in obj)
            {
                Collect(child, all);
            }
        }
        else if (node is JsonArray array)
        {
            foreach (var child in array)
            {
                Collect(child, all);
            }
        }
    }

    private static JsonObject? ObjectOf(JsonNode node) => node as JsonObject ?? node.Parent as JsonObject;

    private static JsonNode Replace(JsonNode root, JsonNode target, JsonNode? value)
    {
        switch (target.Parent)
        {
            case JsonObject parent:
                parent[target.GetPropertyName()] = value;
                return root;
            case JsonArray array:
                array[target.GetElementIndex()] = value;
                return root;
            default:
                return value ?? JsonValue.Create("null")!;
        }
    }

    private static string UnknownName(JsonObject obj, Random random)
    {
        if (obj.Count > 0 && random.Next(2) == 0)
        {
            var existing = obj.ElementAt(random.Next(obj.Count)).Key;
            var typo = Typo(existing, random);
            return obj.ContainsKey(typo) ? typo + "X" : typo;
        }

        string[] names = ["id", "links", "status", "created", "updated", "nodeCount", "address", "foo", "Name", "PORT", "", " ", "é", "__proto__"];
        var name = names[random.Next(names.Length)];
        return obj.ContainsKey(name) ? name + "2" : name;
    }

    private static string Typo(string name, Random random)
    {
        if (name.Length < 2)
        {
            return name + "x";
        }

        var i = random.Next(name.Length);
        return random.Next(3) switch
        {
            0 => name.Remove(i, 1),
            1 => name.Insert(i, "x"),
            _ => char.IsUpper(name[i]) ? name[..i] + char.ToLowerInvariant(name[i]) + name[(i + 1)..] : name[..i] + char.ToUpperInvariant(name[i]) + name[(i + 1)..],
        };
    }

    private static string Printable(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        return text.Length > 400 ? text[..400] + "..." : text;
    }
}

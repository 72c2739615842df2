using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Tether.FunctionalTests.Infrastructure;

/// <summary>
/// A real <c>tether serve</c> process (<c>dotnet tether.dll serve</c>, as an operator runs it) bound to one loopback
/// address: its management API on <c>http://ADDRESS:PORT</c> and its PUBLIC and SERVICENET virtual IPs on the same
/// ADDRESS, so that several instances (127.0.0.2, 127.0.0.3: on Linux the whole 127.0.0.0/8 is the loopback
/// interface) serve the same load balancer port side by side, as the instances of a cluster behind one virtual IP do
/// (issue 14). Extra arguments (<c>--redis CONNECTION --instance NAME</c>) are passed through. <see cref="Kill"/> sends
/// SIGKILL (<c>kill -9</c>: no shutdown, no flush); disposing kills it too and deletes its data directory.
/// </summary>
public sealed class TetherProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _output;
    private readonly bool _ownsDataDirectory;

    private TetherProcess(Process process, StringBuilder output, string address, int apiPort, string dataDirectory, bool ownsDataDirectory, HttpClient api)
    {
        _process = process;
        _output = output;
        Address = address;
        ApiPort = apiPort;
        DataDirectory = dataDirectory;
        _ownsDataDirectory = ownsDataDirectory;
        Api = api;
    }

    /// <summary>The loopback address this instance binds (API and virtual IPs), e.g. <c>127.0.0.2</c>.</summary>
    public string Address { get; }

    public int ApiPort { get; }

    public string DataDirectory { get; }

    /// <summary>The process id (for <c>kill</c>).</summary>
    public int Pid => _process.Id;

    /// <summary>Base address <c>http://ADDRESS:PORT/v1.0/1/</c>, with <c>X-Auth-Token</c> set to the admin token of
    /// the data directory.</summary>
    public HttpClient Api { get; }

    /// <summary>The API token <see cref="Api"/> sends.</summary>
    public string Token { get; private init; } = "";

    /// <summary>Whether the process has ended (killed, or stopped on its own).</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>What the process wrote to its standard output and error so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <c>tether serve</c> on <paramref name="address"/> and returns once its API answers and, unless
    /// <paramref name="token"/> is given, its admin token file exists (60 seconds at most).</summary>
    /// <param name="address">A loopback address: <c>127.0.0.1</c>, <c>127.0.0.2</c>...</param>
    /// <param name="extraArguments">Appended to <c>serve --data-dir D --listen http://ADDRESS:PORT --public-address
    /// ADDRESS --private-address ADDRESS --public-address-v6 ::1</c>, e.g. <c>["--redis", redis.Connection,
    /// "--instance", "a"]</c>.</param>
    /// <param name="dataDirectory">The data directory (kept on dispose), or null for a new one (deleted on
    /// dispose).</param>
    /// <param name="environment">Variables added to the process's environment (the test process's <c>TETHER_</c>
    /// ones are removed; <c>TETHER_Proxy__ShutdownTimeoutSeconds</c> is 5 unless given).</param>
    /// <param name="token">The API token to send, or null for the one in the data directory's <c>admin-token</c>. In
    /// cluster mode tokens are shared through Redis and only the instance that created the admin token writes the
    /// file: give the later instances the first one's <see cref="Token"/>.</param>
    /// <exception cref="InvalidOperationException">The process ended before it served (its exit code and output are
    /// in the message, e.g. an option it does not know) or did not serve within 60 seconds.</exception>
    public static async Task<TetherProcess> StartAsync(string address = "127.0.0.1", IEnumerable<string>? extraArguments = null, string? dataDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null, string? token = null)
    {
        var owns = dataDirectory is null;
        dataDirectory ??= TetherCli.TempPath("tether-proc-");
        var apiPort = FreePort.Next();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("TETHER_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }

        info.Environment["TETHER_Proxy__ShutdownTimeoutSeconds"] = "5";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var listen = $"http://{address}:{apiPort.ToString(CultureInfo.InvariantCulture)}";
        foreach (var arg in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "tether.dll"), "serve", "--data-dir", dataDirectory, "--listen", listen,
            "--public-address", address, "--private-address", address, "--public-address-v6", "::1",
        }.Concat(extraArguments ?? []))
        {
            info.ArgumentList.Add(arg);
        }

        var output = new StringBuilder();
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var api = new HttpClient { BaseAddress = new Uri(listen + "/v1.0/1/"), Timeout = TimeSpan.FromSeconds(30) };
        var tokenFile = Path.Combine(dataDirectory, "admin-token");
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // the end of its output
                var code = process.ExitCode;
                process.Dispose();
                api.Dispose();
                DeleteIfOwned(dataDirectory, owns);
                throw new InvalidOperationException($"tether serve {string.Join(' ', extraArguments ?? [])} on {address} exited {code} before it served:\n{Text(output)}");
            }

            if (DateTime.UtcNow > deadline)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                process.Dispose();
                api.Dispose();
                DeleteIfOwned(dataDirectory, owns);
                throw new InvalidOperationException($"tether serve on {address} did not serve within {StartTimeout.TotalSeconds} s:\n{Text(output)}");
            }

            try
            {
                using var probe = await api.GetAsync("loadbalancers");
                if (token is not null || File.Exists(tokenFile))
                {
                    break;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        token ??= (await File.ReadAllTextAsync(tokenFile)).Trim();
        api.DefaultRequestHeaders.Add("X-Auth-Token", token);
        return new TetherProcess(process, output, address, apiPort, dataDirectory, owns, api) { Token = token };
    }

    /// <summary>Creates an HTTP load balancer with a SERVICENET virtual IP (so on <see cref="Address"/>) over nodes on
    /// 127.0.0.1 at <paramref name="nodePorts"/>; as <see cref="TetherInstance.CreateLoadBalancerAsync(string, IEnumerable{int}, string?, string, int?, string?)"/>.</summary>
    /// <returns>The load balancer id and its port.</returns>
    public Task<(int Id, int Port)> CreateLoadBalancerAsync(string algorithm, IEnumerable<int> nodePorts, string? persistenceJson = null, string protocol = "HTTP", int? port = null, string? extra = null) =>
        TetherApi.CreateLoadBalancerAsync(Api, algorithm, nodePorts, persistenceJson, protocol, port, extra);

    /// <summary>Creates an HTTP load balancer over <paramref name="backends"/> (see the overload with ports).</summary>
    public Task<(int Id, int Port)> CreateLoadBalancerAsync(string algorithm, IEnumerable<TestBackend> backends, string? persistenceJson = null, string protocol = "HTTP", int? port = null, string? extra = null) =>
        TetherApi.CreateLoadBalancerAsync(Api, algorithm, backends.Select(b => b.Port), persistenceJson, protocol, port, extra);

    public Task<JsonNode> GetJsonAsync(string path) => TetherApi.GetJsonAsync(Api, path);

    public Task<HttpResponseMessage> SendJsonAsync(HttpMethod method, string path, string? json) => TetherApi.SendJsonAsync(Api, method, path, json);

    /// <summary>An HTTP client (no cookies) for the load balancer port <paramref name="port"/> on this instance's
    /// address.</summary>
    public HttpClient Client(int port) =>
        new(new SocketsHttpHandler { UseCookies = false, PooledConnectionLifetime = TimeSpan.Zero }) { BaseAddress = new Uri($"http://{Address}:{port.ToString(CultureInfo.InvariantCulture)}"), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Sends SIGKILL (<c>kill -9</c>) and waits until the process has ended: its listeners vanish at once,
    /// nothing is flushed or closed gracefully.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(); // SIGKILL on Unix
        }

        _process.WaitForExit();
    }

    /// <summary>The exit code after <see cref="Kill"/> or an exit of its own (137 = 128 + SIGKILL as a shell reports
    /// it; .NET reports a signal death as 128 + the signal number).</summary>
    public int ExitCode => _process.ExitCode;

    public ValueTask DisposeAsync()
    {
        Api.Dispose();
        Kill();
        _process.Dispose();
        DeleteIfOwned(DataDirectory, _ownsDataDirectory);
        return ValueTask.CompletedTask;
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static void DeleteIfOwned(string directory, bool owned)
    {
        if (owned && Directory.Exists(directory))
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tether.FunctionalTests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> (Debian package <c>redis-server</c>, Redis 7.0 on bookworm) for the cluster tests (issue
/// 14): one process on <c>127.0.0.1</c> on a free port, without persistence (<c>--save '' --appendonly no</c>), its
/// working directory a new temporary directory. <see cref="StopAsync"/> then <see cref="StartAgainAsync"/> restart it
/// on the same port, empty (the "Redis stopped and started under load" scenario); disposing kills it and deletes the
/// directory.
/// <para>When <c>redis-server</c> is not installed and the tests run as root (a fresh CI machine), the first start
/// installs it with <c>apt-get install -y redis-server</c>, once per machine: concurrent test processes take turns on
/// a lock file (<c>/tmp/tether-tests-apt.lock</c>) and the ones after the first find it installed. Not root and not
/// installed: the start fails with the command to run.</para>
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    /// <summary>How long a start may take to answer PING (the first start may also install the package).</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static string? _executable;

    private readonly string _directory;
    private readonly StringBuilder _output = new();
    private Process? _process;
    private bool _answered;

    private RedisServer(string executable, string directory, int port)
    {
        Executable = executable;
        _directory = directory;
        Port = port;
    }

    /// <summary>The full path of the <c>redis-server</c> that runs.</summary>
    public string Executable { get; }

    /// <summary>The TCP port on 127.0.0.1; the same across <see cref="StopAsync"/> and <see cref="StartAgainAsync"/>.</summary>
    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string (<c>127.0.0.1:PORT</c>) for <c>tether serve --redis</c>.</summary>
    public string Connection => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Whether the process runs (started and not stopped or dead).</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>What the server wrote to its standard output and error so far (its log), for a failure message.</summary>
    public string Log
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts a new server on a free port and returns once it answers PING. Installs the package first when
    /// it is missing (see the class remarks). Throws <see cref="InvalidOperationException"/> with the reason when it
    /// cannot be installed or does not come up within 30 seconds.</summary>
    public static async Task<RedisServer> StartAsync()
    {
        var executable = await FindOrInstallAsync();
        var directory = Path.Combine(Path.GetTempPath(), "tether-redis-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        for (var attempt = 1; ; attempt++)
        {
            var server = new RedisServer(executable, directory, FreePort.Next());
            try
            {
                await server.StartAgainAsync();
                return server;
            }
            catch (InvalidOperationException) when (attempt < 5 && server.Log.Contains("Address already in use", StringComparison.Ordinal))
            {
                // the free port was taken between the check and redis-server's bind: another one
                await server.KillAsync();
            }
            catch
            {
                await server.KillAsync();
                Directory.Delete(directory, recursive: true);
                throw;
            }
        }
    }

    /// <summary>Starts the server again on <see cref="Port"/> after <see cref="StopAsync"/>, empty (no persistence),
    /// and returns once it answers PING. Retries the bind for up to 30 seconds (a socket of the previous run may
    /// still hold the port).</summary>
    public async Task StartAgainAsync()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"redis-server on port {Port} already runs");
        }

        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            lock (_output)
            {
                _output.Clear();
            }

            var info = new ProcessStartInfo(Executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = _directory,
            };
            foreach (var arg in new[]
            {
                "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", _directory, "--daemonize", "no", "--logfile", "", "--databases", "16", "--loglevel", "notice",
            })
            {
                info.ArgumentList.Add(arg);
            }

            var process = Process.Start(info) ?? throw new InvalidOperationException($"{Executable} did not start");
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _process = process;

            while (DateTime.UtcNow < deadline && !process.HasExited)
            {
                if (await PingAsync(Port))
                {
                    _answered = true;
                    return;
                }

                await Task.Delay(50);
            }

            if (process.HasExited)
            {
                process.WaitForExit(); // the end of its output
            }

            if (process.HasExited && _answered && DateTime.UtcNow < deadline && Log.Contains("Address already in use", StringComparison.Ordinal))
            {
                // a restart on the same port: wait for the port rather than move
                process.Dispose();
                _process = null;
                await Task.Delay(200);
                continue;
            }

            var log = Log;
            if (!process.HasExited)
            {
                process.Kill();
            }

            throw new InvalidOperationException($"redis-server on port {Port} did not answer PING within {StartTimeout.TotalSeconds} s:\n{log}");
        }
    }

    /// <summary>Stops the server with SIGKILL (as a crash or <c>kill -9</c>: nothing is saved, connections are cut)
    /// and waits until it has exited; connections to <see cref="Port"/> are then refused.</summary>
    public Task StopAsync() => KillAsync();

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Sends PING over a new raw TCP connection to 127.0.0.1:<paramref name="port"/> and answers whether the
    /// reply is <c>+PONG</c>; false when the connection is refused or the reply does not come within 2 seconds.</summary>
    public static async Task<bool> PingAsync(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
            await socket.SendAsync("*1\r\n$4\r\nPING\r\n"u8.ToArray(), SocketFlags.None, timeout.Token);
            var buffer = new byte[64];
            var read = 0;
            while (read < 7)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, timeout.Token);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            return Encoding.ASCII.GetString(buffer, 0, read) == "+PONG\r\n";
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The path of <c>redis-server</c>: on PATH, in /usr/bin or /usr/sbin; else installs the Debian package
    /// as root (see <see cref="AptPackages.FindOrInstallAsync"/>). Throws <see cref="InvalidOperationException"/> with
    /// what to do when it cannot.</summary>
    public static async Task<string> FindOrInstallAsync() =>
        _executable ??= await AptPackages.FindOrInstallAsync("redis-server", "redis-server", "the cluster tests (issue 14)");

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private async Task KillAsync()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            await process.WaitForExitAsync();
        }
        finally
        {
            process.Dispose();
        }
    }
}

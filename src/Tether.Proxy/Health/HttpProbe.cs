using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;

namespace Tether.Proxy.Health;

/// <summary>
/// HTTP and HTTPS: <c>GET path</c> on the node, with <c>Host: hostHeader</c> when the monitor sets one (the node's
/// <c>address:port</c> otherwise) and <c>Connection: close</c>, so every probe opens a fresh connection. The node
/// passes when the three-digit status code matches <c>statusRegex</c> (default <c>^[234][0-9][0-9]$</c>) and, when
/// the monitor has a <c>bodyRegex</c>, the first 2048 bytes of the body (read as UTF-8) match it. Redirects are not
/// followed (a 3xx is judged by its status code).
/// </summary>
/// <remarks>HTTPS accepts any node certificate (self-signed, expired, another name): node certificates are usually
/// self-signed, and the probe checks that the node answers, not who it is; traffic to nodes is not made any less
/// verified by it.</remarks>
internal sealed class HttpProbe : IHealthProbe
{
    private readonly HttpMessageInvoker _client;
    private readonly HealthMonitorConfig _monitor;
    private readonly Regex _status;
    private readonly Regex? _body;
    private readonly string _scheme;

    /// <param name="client">The shared client (see <see cref="HealthMonitoring"/>): no proxy, no cookies, no
    /// redirects, no certificate check.</param>
    /// <param name="monitor">An HTTP or HTTPS monitor whose regexes compile (the API checked them).</param>
    public HttpProbe(HttpMessageInvoker client, HealthMonitorConfig monitor)
    {
        _client = client;
        _monitor = monitor;
        _scheme = monitor.Type == HealthMonitorType.Https ? "https://" : "http://";
        _status = new Regex(monitor.EffectiveStatusRegex, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        _body = monitor.BodyRegex is null ? null : new Regex(monitor.BodyRegex, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }

    public async ValueTask<ProbeResult> ProbeAsync(NodeState node, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_scheme + node.HashKey + (_monitor.Path ?? "/")))
        {
            Version = System.Net.HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.ConnectionClose = true;
        request.Headers.UserAgent.ParseAdd("Tether-HealthMonitor/1.0");
        if (_monitor.HostHeader is { } host)
        {
            request.Headers.Host = host;
        }

        try
        {
            using var response = await _client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var code = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
            if (!_status.IsMatch(code))
            {
                return ProbeResult.Fail($"Status code {code} did not match statusRegex '{_status}'");
            }

            if (_body is not null)
            {
                var text = await ReadPrefixAsync(response.Content, cancellationToken).ConfigureAwait(false);
                if (!_body.IsMatch(text))
                {
                    return ProbeResult.Fail($"Response body did not match bodyRegex '{_body}' within the first {HealthMonitorConfig.MaxBodyBytes} bytes");
                }
            }

            return ProbeResult.Pass();
        }
        catch (HttpRequestException e)
        {
            return ProbeResult.Fail(e.InnerException switch
            {
                SocketException socket => ConnectProbe.Describe(socket),
                System.Security.Authentication.AuthenticationException tls => "TLS handshake failed: " + tls.Message,
                IOException io => io.Message,
                _ => e.Message,
            });
        }
        catch (IOException e)
        {
            return ProbeResult.Fail(e.Message);
        }
        catch (RegexMatchTimeoutException)
        {
            return ProbeResult.Fail("The status or body regex took longer than 1 s to match");
        }
    }

    /// <summary>The first <see cref="HealthMonitorConfig.MaxBodyBytes"/> bytes of the body as UTF-8 text.</summary>
    private static async Task<string> ReadPrefixAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var buffer = new byte[HealthMonitorConfig.MaxBodyBytes];
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var total = 0;
            int read;
            while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += read;
            }

            return Encoding.UTF8.GetString(buffer, 0, total);
        }
    }
}

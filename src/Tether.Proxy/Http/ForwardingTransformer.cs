using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Tether.Proxy.Http;

/// <summary>
/// The request and response rewriting Tether does around YARP's forwarder: the default header copy (hop-by-hop headers
/// dropped), the client's Host kept, and <c>X-Forwarded-For</c> (the client address appended to any list the client
/// sent, as HAProxy's <c>option forwardfor</c> and nginx's <c>$proxy_add_x_forwarded_for</c> do),
/// <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Port</c> (set from the listener, never trusted from the client).
/// </summary>
internal sealed class ForwardingTransformer : HttpTransformer
{
    public static readonly ForwardingTransformer Instance = new();

    private const string ForwardedFor = "X-Forwarded-For";
    private const string ForwardedProto = "X-Forwarded-Proto";
    private const string ForwardedPort = "X-Forwarded-Port";

    public override async ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);

        var headers = proxyRequest.Headers;
        var host = httpContext.Request.Host;
        if (host.HasValue)
        {
            headers.Host = host.Value;
        }

        var client = httpContext.Connection.RemoteIpAddress;
        if (client is not null)
        {
            if (client.IsIPv4MappedToIPv6)
            {
                client = client.MapToIPv4();
            }

            var prior = httpContext.Request.Headers[ForwardedFor];
            headers.Remove(ForwardedFor);
            headers.TryAddWithoutValidation(ForwardedFor, prior.Count == 0 ? client.ToString() : string.Concat(string.Join(", ", prior.ToArray()), ", ", client.ToString()));
        }

        headers.Remove(ForwardedProto);
        headers.TryAddWithoutValidation(ForwardedProto, httpContext.Request.IsHttps ? "https" : "http");
        headers.Remove(ForwardedPort);
        headers.TryAddWithoutValidation(ForwardedPort, PortText(httpContext.Connection.LocalPort));
    }

    private static readonly string[] SmallPorts = CreateSmallPorts();

    private static string[] CreateSmallPorts()
    {
        var ports = new string[1024];
        for (var i = 0; i < ports.Length; i++)
        {
            ports[i] = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return ports;
    }

    private static string PortText(int port) =>
        (uint)port < (uint)SmallPorts.Length ? SmallPorts[port] : port.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

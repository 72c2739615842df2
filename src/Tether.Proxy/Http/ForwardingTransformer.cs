using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace Tether.Proxy.Http;

/// <summary>
/// The request and response rewriting Tether does around YARP's forwarder: the default header copy (hop-by-hop headers
/// dropped), the fields named by a <c>Connection</c> option dropped both ways (RFC 9110 section 7.6.1; never Host,
/// Content-Length or Transfer-Encoding, as on the fast path), the client's Host kept, and <c>X-Forwarded-For</c> (the
/// client address appended to the non-empty values the client sent, as HAProxy's <c>option forwardfor</c> and nginx's
/// <c>$proxy_add_x_forwarded_for</c> do),
/// <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Port</c> (set from the listener, never trusted from the client).
/// </summary>
internal sealed class ForwardingTransformer : HttpTransformer
{
    public static readonly ForwardingTransformer Instance = new();

    private static readonly UriCreationOptions RawTargetUri = new() { DangerousDisablePathAndQueryCanonicalization = true };

    private const string ForwardedFor = "X-Forwarded-For";
    private const string ForwardedProto = "X-Forwarded-Proto";
    private const string ForwardedPort = "X-Forwarded-Port";

    public override async ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        // The node gets the request target exactly as the client sent it, as on the fast path (and HAProxy): Kestrel's
        // Request.Path is decoded and has its dot segments removed ("/a/%2e%2e/b" is "/b"), and content caching keeps
        // its key there while its middleware runs. Kestrel has already refused targets with invalid characters.
        if (httpContext.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } rawTarget && rawTarget[0] == '/')
        {
            proxyRequest.RequestUri = new Uri(string.Concat(destinationPrefix.AsSpan(0, destinationPrefix.Length - (destinationPrefix.EndsWith('/') ? 1 : 0)), rawTarget), RawTargetUri);
        }
        else if (ContentCache.TryGetRealPath(httpContext, out var realPath))
        {
            proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, realPath, httpContext.Request.QueryString);
        }

        var headers = proxyRequest.Headers;
        // Before the X-Forwarded-* fields are set: a client naming them in Connection removes only its own. Kestrel
        // replaces a value holding exactly one kind of keep-alive, close or upgrade with that one option, so the
        // fields such a value names cannot be seen here and pass (docs/security.md; the fast path removes them).
        var connection = httpContext.Request.Headers.Connection;
        for (var i = 0; i < connection.Count; i++)
        {
            foreach (var option in (connection[i] ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (IsRemovable(option))
                {
                    // Remove throws on a name of the other kind (TE on content headers, Content-Type on request
                    // headers); NonValidated.Contains does not.
                    if (headers.NonValidated.Contains(option))
                    {
                        headers.Remove(option);
                    }

                    if (proxyRequest.Content is { } content && content.Headers.NonValidated.Contains(option))
                    {
                        content.Headers.Remove(option);
                    }
                }
            }
        }

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

            headers.Remove(ForwardedFor);
            headers.TryAddWithoutValidation(ForwardedFor, ForwardedForValue(httpContext.Request.Headers[ForwardedFor], client.ToString()));
        }

        headers.Remove(ForwardedProto);
        headers.TryAddWithoutValidation(ForwardedProto, httpContext.Request.IsHttps ? "https" : "http");
        headers.Remove(ForwardedPort);
        headers.TryAddWithoutValidation(ForwardedPort, PortText(httpContext.Connection.LocalPort));
    }

    /// <inheritdoc />
    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var result = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
        if (proxyResponse is not null)
        {
            foreach (var option in proxyResponse.Headers.Connection)
            {
                if (IsRemovable(option))
                {
                    httpContext.Response.Headers.Remove(option);
                }
            }

            ContentCache.OnNodeAnswer(httpContext);
        }

        return result;
    }

    /// <summary>The client's X-Forwarded-For values (one per field line, empty ones skipped) joined with ", ", then
    /// <paramref name="client"/>: what the fast path sends too.</summary>
    private static string ForwardedForValue(Microsoft.Extensions.Primitives.StringValues prior, string client)
    {
        if (prior.Count == 0)
        {
            return client;
        }

        var value = new System.Text.StringBuilder();
        for (var i = 0; i < prior.Count; i++)
        {
            var item = prior[i].AsSpan().Trim(" \t");
            if (!item.IsEmpty)
            {
                value.Append(item).Append(", ");
            }
        }

        return value.Append(client).ToString();
    }

    /// <summary>Whether a field named by a Connection option is dropped: not the framing, Host, or the options YARP
    /// and Kestrel handle themselves (close, keep-alive, upgrade).</summary>
    private static bool IsRemovable(string name) =>
        IsToken(name)
        && !name.Equals("host", StringComparison.OrdinalIgnoreCase)
        && !name.Equals("content-length", StringComparison.OrdinalIgnoreCase)
        && !name.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase)
        && !name.Equals("close", StringComparison.OrdinalIgnoreCase)
        && !name.Equals("keep-alive", StringComparison.OrdinalIgnoreCase)
        && !name.Equals("upgrade", StringComparison.OrdinalIgnoreCase);

    /// <summary>A field name as RFC 9110 section 5.1 allows (a token); anything else names no field (and
    /// <see cref="System.Net.Http.Headers.HttpHeaders.Remove(string)"/> would throw on it).</summary>
    private static bool IsToken(string name)
    {
        if (name.Length == 0)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && "!#$%&'*+-.^_`|~".IndexOf(c, StringComparison.Ordinal) < 0)
            {
                return false;
            }
        }

        return true;
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

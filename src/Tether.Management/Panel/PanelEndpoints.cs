using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Tether.Management.Panel;

/// <summary>
/// The web control panel (issue 15, README "Control panel"): static HTML, CSS and ES modules embedded in this assembly
/// (<c>Panel/wwwroot/</c>, logical names <c>panel/...</c>) and served under <c>/panel/</c> on the management port. The
/// panel itself calls only the public <c>/v1.0</c> API with the operator's token; these endpoints serve files and
/// nothing else, without a token (the files hold no secret).
/// <para>Every answer carries a strict Content-Security-Policy (<c>default-src 'self'</c>, no inline script or style,
/// no framing), <c>X-Content-Type-Options: nosniff</c>, <c>Referrer-Policy: no-referrer</c> and a strong ETag
/// (SHA-256 of the file) with <c>Cache-Control: no-cache</c>, so a browser revalidates and gets a 304 while the
/// binary is the same.</para>
/// </summary>
public static class PanelEndpoints
{
    /// <summary>The path prefix of the panel.</summary>
    public const string Path = "/panel";

    /// <summary>The Content-Security-Policy of every panel answer.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private const string ResourcePrefix = "panel/";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".ico"] = "image/x-icon",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>Maps <c>GET /panel</c> (a redirect to <c>/panel/</c>), <c>GET /panel/</c> (<c>index.html</c>) and
    /// <c>GET /panel/{file}</c>: 200 with the embedded file, 304 when <c>If-None-Match</c> names its ETag, 404 with an
    /// empty body for a name that is not embedded (no file system is read). HEAD is answered as GET without a body.</summary>
    /// <param name="endpoints">The application or another route builder.</param>
    /// <returns>The route group, for further conventions.</returns>
    public static RouteGroupBuilder MapTetherPanel(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var files = LoadFiles(typeof(PanelEndpoints).Assembly);
        // Routing matches /panel and /panel/ alike: only the form without the slash is redirected (relative module
        // paths need the slash).
        endpoints.MapMethods(Path, ["GET", "HEAD"], (HttpContext http) =>
        {
            if (http.Request.Path.Value?.EndsWith('/') == true)
            {
                return Serve(http, files, null);
            }

            AddSecurityHeaders(http.Response);
            return Results.Redirect(Path + "/");
        }).ExcludeFromDescription();
        // The panel's files are no part of the API: they stay out of /openapi/v1.json.
        var group = endpoints.MapGroup(Path).ExcludeFromDescription();
        group.MapMethods("/{**file}", ["GET", "HEAD"], (HttpContext http, string? file) => Serve(http, files, file));
        return group;
    }

    private static IResult Serve(HttpContext http, FrozenDictionary<string, PanelFile> files, string? name)
    {
        AddSecurityHeaders(http.Response);
        if (!files.TryGetValue(string.IsNullOrEmpty(name) ? "index.html" : name, out var file))
        {
            return Results.NotFound();
        }

        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers.ETag = file.ETag;
        if (http.Request.Headers.IfNoneMatch.Contains(file.ETag))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(file.Content, file.ContentType);
    }

    private static void AddSecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.XFrameOptions = "DENY";
    }

    private static FrozenDictionary<string, PanelFile> LoadFiles(Assembly assembly)
    {
        var files = new Dictionary<string, PanelFile>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal)
                || !ContentTypes.TryGetValue(System.IO.Path.GetExtension(resource), out var contentType))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var content = copy.ToArray();
            // MSBuild writes RecursiveDir with the platform's separator.
            var name = resource[ResourcePrefix.Length..].Replace('\\', '/');
            files[name] = new PanelFile(content, contentType, "\"" + Convert.ToHexStringLower(SHA256.HashData(content))[..32] + "\"");
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private sealed record PanelFile(byte[] Content, string ContentType, string ETag);
}

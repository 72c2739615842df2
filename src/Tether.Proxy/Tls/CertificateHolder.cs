using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Tether.Core.Model;

namespace Tether.Proxy.Tls;

/// <summary>
/// The certificates of a load balancer's SSL termination, each as an <see cref="SslStreamCertificateContext"/>
/// (certificate, key and intermediate chain, built once per change, off the handshake path): the load balancer's own
/// certificate and one per certificate mapping (Rackspace v1.0 <c>/ssltermination/certificatemappings</c>). TLS
/// listeners call <see cref="Select"/> at every handshake with the client's SNI host name, so a new certificate or
/// mapping takes effect without a rebind.
/// </summary>
/// <remarks>
/// Matching (Rackspace: "host names are honored in a most specific to least specific fashion"; the same as HAProxy's
/// <c>crt-list</c> SNI filters): the exact name first, case-insensitive (a trailing dot ignored); then wildcard
/// mappings, fewest <c>*</c> labels first, each <c>*</c> standing for exactly one label (<c>*.example.com</c> matches
/// <c>www.example.com</c>, not <c>example.com</c> nor <c>a.www.example.com</c>; <c>*.*.example.com</c> matches
/// <c>a.www.example.com</c>); otherwise, and without SNI, the load balancer's own certificate. A lookup is a few
/// dictionary reads on spans of the name: no lock, no allocation.
/// </remarks>
internal sealed class CertificateHolder
{
    private volatile Table? _table;

    /// <summary>The contexts built for the current configuration, by their PEM source, so that an update rebuilds
    /// only what changed.</summary>
    private Dictionary<string, SslStreamCertificateContext> _built = new(StringComparer.Ordinal);

    /// <summary>The load balancer's own context (what a client without SNI gets).</summary>
    /// <exception cref="InvalidOperationException">No certificate was loaded.</exception>
    public SslStreamCertificateContext Context => Select(null);

    /// <summary>The context for a handshake whose client sent <paramref name="serverName"/> (null or empty: no SNI).</summary>
    /// <exception cref="InvalidOperationException">No certificate was loaded.</exception>
    public SslStreamCertificateContext Select(string? serverName)
    {
        var table = _table ?? throw new InvalidOperationException("No SSL termination certificate is loaded.");
        if (string.IsNullOrEmpty(serverName) || !table.HasMappings)
        {
            return table.Default;
        }

        var name = serverName.AsSpan().TrimEnd('.');
        if (table.Exact.TryGetValue(name, out var exact))
        {
            return exact;
        }

        var rest = name;
        for (var depth = 0; depth < table.Wildcards.Length; depth++)
        {
            var dot = rest.IndexOf('.');
            if (dot < 0)
            {
                break;
            }

            rest = rest[(dot + 1)..];
            if (table.Wildcards[depth].TryGetValue(rest, out var wildcard))
            {
                return wildcard;
            }
        }

        return table.Default;
    }

    /// <summary>Loads <paramref name="ssl"/>'s certificate and its mappings' (the API validated them already);
    /// contexts whose certificate, key and chain did not change are reused. Called under the data plane's gate.</summary>
    public void Update(SslTerminationConfig ssl)
    {
        var built = new Dictionary<string, SslStreamCertificateContext>(StringComparer.Ordinal);
        var fallback = Build(ssl.Certificate, ssl.PrivateKey, ssl.IntermediateCertificate, built);
        var exact = new Dictionary<string, SslStreamCertificateContext>(StringComparer.OrdinalIgnoreCase);
        var wildcards = new List<Dictionary<string, SslStreamCertificateContext>>();
        foreach (var mapping in ssl.CertificateMappings)
        {
            var context = Build(mapping.Certificate, mapping.PrivateKey, mapping.IntermediateCertificate, built);
            var host = mapping.HostName.TrimEnd('.');
            var depth = 0;
            while (host.StartsWith("*.", StringComparison.Ordinal))
            {
                host = host[2..];
                depth++;
            }

            if (depth == 0)
            {
                exact.TryAdd(host, context);
                continue;
            }

            while (wildcards.Count < depth)
            {
                wildcards.Add(new Dictionary<string, SslStreamCertificateContext>(StringComparer.OrdinalIgnoreCase));
            }

            wildcards[depth - 1].TryAdd(host, context);
        }

        _built = built;
        _table = new Table(fallback, exact, [.. wildcards]);
    }

    private SslStreamCertificateContext Build(string certificate, string privateKey, string? intermediate,
        Dictionary<string, SslStreamCertificateContext> built)
    {
        var source = string.Concat(certificate, "\n", privateKey, "\n", intermediate);
        if (built.TryGetValue(source, out var context) || _built.TryGetValue(source, out context))
        {
            built[source] = context;
            return context;
        }

        var cert = X509Certificate2.CreateFromPem(certificate, privateKey);
        var chain = new X509Certificate2Collection();
        if (!string.IsNullOrWhiteSpace(intermediate))
        {
            chain.ImportFromPem(intermediate);
        }

        context = SslStreamCertificateContext.Create(cert, chain, offline: true);
        built[source] = context;
        return context;
    }

    /// <summary>One immutable lookup structure, swapped whole on a change.</summary>
    private sealed class Table
    {
        public Table(SslStreamCertificateContext fallback, Dictionary<string, SslStreamCertificateContext> exact,
            Dictionary<string, SslStreamCertificateContext>[] wildcards)
        {
            Default = fallback;
            Exact = exact.GetAlternateLookup<ReadOnlySpan<char>>();
            Wildcards = [.. wildcards.Select(w => w.GetAlternateLookup<ReadOnlySpan<char>>())];
            HasMappings = exact.Count > 0 || wildcards.Length > 0;
        }

        public SslStreamCertificateContext Default { get; }

        public Dictionary<string, SslStreamCertificateContext>.AlternateLookup<ReadOnlySpan<char>> Exact { get; }

        /// <summary>Index d - 1: the mappings with d leading <c>*</c> labels, by the rest of their name.</summary>
        public Dictionary<string, SslStreamCertificateContext>.AlternateLookup<ReadOnlySpan<char>>[] Wildcards { get; }

        public bool HasMappings { get; }
    }
}

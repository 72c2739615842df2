using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Tether.Core.Model;

namespace Tether.Proxy.Tls;

/// <summary>
/// The current certificate of a load balancer's SSL termination, as an <see cref="SslStreamCertificateContext"/>
/// (certificate, key and intermediate chain, built once per change, off the handshake path). TLS listeners read it at
/// every handshake, so replacing the certificate needs no rebind.
/// </summary>
internal sealed class CertificateHolder
{
    private volatile SslStreamCertificateContext? _context;
    private string? _source;

    /// <summary>The context handshakes use now.</summary>
    /// <exception cref="InvalidOperationException">No certificate was loaded.</exception>
    public SslStreamCertificateContext Context => _context ?? throw new InvalidOperationException("No SSL termination certificate is loaded.");

    /// <summary>Loads <paramref name="ssl"/>'s certificate when it changed (the API validated it already).</summary>
    public void Update(SslTerminationConfig ssl)
    {
        var source = ssl.Certificate + ssl.PrivateKey + ssl.IntermediateCertificate;
        if (source == _source)
        {
            return;
        }

        var certificate = X509Certificate2.CreateFromPem(ssl.Certificate, ssl.PrivateKey);
        var chain = new X509Certificate2Collection();
        if (!string.IsNullOrWhiteSpace(ssl.IntermediateCertificate))
        {
            chain.ImportFromPem(ssl.IntermediateCertificate);
        }

        _context = SslStreamCertificateContext.Create(certificate, chain, offline: true);
        _source = source;
    }
}

using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tether.Core.Model;
using Tether.Management.Storage;

namespace Tether;

/// <summary>
/// <c>tether serve --check</c>, as <c>haproxy -c</c> and <c>nginx -t</c>: checks what <c>tether serve</c> would start
/// without listening on a port (an IPv4 port a [::] listener holds is bound for a moment to tell a dual-stack socket), creating a file or changing the store. Checks the data directory (exists or can be created,
/// writable, the store opens read-only, its schema version and SQLite's <c>quick_check</c>), the management API's port
/// and every load balancer that would be started (status ACTIVE or ERROR): each of its ports is free (no listener of
/// this machine holds it), its virtual IP addresses belong to this machine, its SSL termination certificate and key
/// load, match and are within their validity period. Prints one line per load balancer on standard output, each
/// problem on standard error.
/// </summary>
internal static class ServeCheck
{
    /// <summary>Runs the checks.</summary>
    /// <returns>0 when <c>tether serve</c> would start every load balancer; 2 otherwise.</returns>
    public static int Run(TetherSettings settings, TextWriter output, TextWriter error, TimeProvider time)
    {
        var problems = new List<string>();
        var directory = Path.GetFullPath(settings.DataDirectory);
        var tcp = IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpListeners();
        var udp = IPGlobalProperties.GetIPGlobalProperties().GetActiveUdpListeners();
        var local = LocalAddresses();

        foreach (var warning in DataDirectory.PermissionWarnings(directory))
        {
            error.WriteLine(warning);
        }

        var api = new Uri(settings.ManagementUrl);
        var apiAddress = api.IsLoopback && !IPAddress.TryParse(api.Host.Trim('[', ']'), out _) ? IPAddress.Loopback : IPAddress.Parse(api.Host.Trim('[', ']'));
        output.WriteLine($"management API {settings.ManagementUrl}");
        CheckAddress(apiAddress, "--listen", local, problems);
        if (api.Port != 0 && Taken(tcp, apiAddress, api.Port))
        {
            problems.Add($"--listen {settings.ManagementUrl}: port {api.Port} is in use (another program, or a running Tether)");
        }

        var metricsUrl = settings.Configuration?["Management:MetricsUrl"];
        if (!string.IsNullOrEmpty(metricsUrl))
        {
            var metrics = new Uri(metricsUrl);
            var metricsAddress = IPAddress.TryParse(metrics.Host.Trim('[', ']'), out var m) ? m : IPAddress.Loopback;
            output.WriteLine($"metrics {metricsUrl}/metrics");
            CheckAddress(metricsAddress, "Management:MetricsUrl", local, problems);
            if (Taken(tcp, metricsAddress, metrics.Port))
            {
                problems.Add($"Management:MetricsUrl {metricsUrl}: port {metrics.Port} is in use (another program, or a running Tether)");
            }
        }

        CheckAddress(IPAddress.Parse(settings.PublicAddress), "--public-address", local, problems);
        CheckAddress(IPAddress.Parse(settings.PrivateAddress), "--private-address", local, problems);
        CheckAddress(IPAddress.Parse(settings.PublicAddressV6), "--public-address-v6", local, problems);

        var cannotWrite = DataDirectory.CannotWrite(directory);
        if (cannotWrite is not null)
        {
            problems.Add($"data directory: {cannotWrite}");
        }
        else if (DataDirectory.MissingStore(directory) is { } missing)
        {
            output.WriteLine($"data directory {directory}: {missing}; tether serve will create it with no load balancer");
        }
        else
        {
            output.WriteLine($"data directory {directory}");
            CheckStore(directory, output, tcp, udp, local, time.GetUtcNow(), problems);
        }

        foreach (var problem in problems)
        {
            error.WriteLine($"tether serve --check: {problem}");
        }

        output.WriteLine(problems.Count == 0
            ? "tether serve --check: ok"
            : string.Create(CultureInfo.InvariantCulture, $"tether serve --check: {problems.Count} problem{(problems.Count == 1 ? "" : "s")}; tether serve would not start as it should"));
        return problems.Count == 0 ? 0 : 2;
    }

    private static void CheckStore(string directory, TextWriter output, IPEndPoint[] tcp, IPEndPoint[] udp, HashSet<IPAddress> local, DateTimeOffset now, List<string> problems)
    {
        IReadOnlyList<LoadBalancerConfig> loadBalancers;
        try
        {
            using var store = TetherStore.OpenReadOnly(directory);
            loadBalancers = store.LoadAll();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            problems.Add($"store: {e.Message.TrimEnd('.')}");
            return;
        }

        var claimed = new HashSet<(IPAddress, int, ProtocolLayer)>();
        foreach (var lb in loadBalancers)
        {
            var layer = Protocols.TryGet(lb.Protocol, out var info) ? info.Layer : ProtocolLayer.Tcp;
            var endPoints = new List<(IPAddress Address, int Port, bool Udp)>();
            var plain = !(lb.SslTermination is { Enabled: true, SecureTrafficOnly: true } && !lb.HttpsRedirect);
            foreach (var vip in lb.VirtualIps)
            {
                if (!IPAddress.TryParse(vip.Address, out var address))
                {
                    problems.Add($"load balancer {lb.Id}: virtual IP {vip.Id} has no valid address ({vip.Address})");
                    continue;
                }

                if (plain)
                {
                    endPoints.Add((address, lb.Port, layer == ProtocolLayer.Udp));
                }

                if (lb.SslTermination is { Enabled: true } ssl && layer == ProtocolLayer.Http)
                {
                    endPoints.Add((address, ssl.SecurePort, false));
                }
            }

            var nodes = string.Join(", ", lb.Nodes.Select(n => string.Create(CultureInfo.InvariantCulture,
                $"{(n.Address.Contains(':', StringComparison.Ordinal) ? "[" + n.Address + "]" : n.Address)}:{n.Port} {n.Condition.ToString().ToUpperInvariant()}")));
            var addresses = string.Join(", ", endPoints.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Address}:{e.Port}")));
            var started = lb.Status is LoadBalancerStatus.Active or LoadBalancerStatus.Error;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"load balancer {lb.Id} \"{lb.Name}\" (account {lb.AccountId}) {lb.Protocol} {addresses} -> {(nodes.Length == 0 ? "no node" : nodes)}{(started ? "" : $" [{lb.Status}: not started]")}"));
            if (!started)
            {
                continue;
            }

            foreach (var (address, port, isUdp) in endPoints)
            {
                var where = string.Create(CultureInfo.InvariantCulture, $"load balancer {lb.Id} \"{lb.Name}\": {address}:{port}{(isUdp ? "/udp" : "")}");
                if (!claimed.Add((address, port, isUdp ? ProtocolLayer.Udp : ProtocolLayer.Tcp)))
                {
                    problems.Add($"{where} is also used by another load balancer");
                }
                else if (Taken(isUdp ? udp : tcp, address, port, isUdp))
                {
                    problems.Add($"{where}: port {port} is in use (another program, or a running Tether)");
                }

                if (!IsUsable(address, local))
                {
                    problems.Add($"{where}: {address} is not an address of this machine");
                }
            }

            if (lb.SslTermination is { } termination)
            {
                foreach (var problem in CertificateProblems(termination, now))
                {
                    problems.Add($"load balancer {lb.Id} \"{lb.Name}\": {problem}");
                }
            }
        }
    }

    /// <summary>Why the SSL termination's certificate or one of its certificate mappings' would not serve
    /// (<see cref="CheckCertificate"/>), one line each: <c>SSL termination: ...</c>, <c>certificate mapping 4
    /// (www.example.com): ...</c>.</summary>
    internal static IEnumerable<string> CertificateProblems(SslTerminationConfig ssl, DateTimeOffset now)
    {
        if (CheckCertificate(ssl, now) is { } reason)
        {
            yield return $"SSL termination: {reason}";
        }

        foreach (var mapping in ssl.CertificateMappings)
        {
            if (CheckCertificate(ssl with { Certificate = mapping.Certificate, PrivateKey = mapping.PrivateKey }, now) is { } mapped)
            {
                yield return $"certificate mapping {mapping.Id} ({mapping.HostName}): {mapped}";
            }
        }
    }

    /// <summary>Null when the certificate and key load as PEM, match and are within their validity period.</summary>
    internal static string? CheckCertificate(SslTerminationConfig ssl, DateTimeOffset now)
    {
        try
        {
            using var certificate = X509Certificate2.CreateFromPem(ssl.Certificate, ssl.PrivateKey);
            if (!certificate.HasPrivateKey)
            {
                return "the private key does not match the certificate";
            }

            if (certificate.NotAfter.ToUniversalTime() < now.UtcDateTime)
            {
                return $"the certificate {certificate.Subject} expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ}";
            }

            if (certificate.NotBefore.ToUniversalTime() > now.UtcDateTime)
            {
                return $"the certificate {certificate.Subject} is not valid before {certificate.NotBefore.ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ}";
            }

            return null;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return $"the certificate and private key cannot be loaded together ({e.Message.TrimEnd('.')})";
        }
    }

    private static void CheckAddress(IPAddress address, string flag, HashSet<IPAddress> local, List<string> problems)
    {
        if (!IsUsable(address, local))
        {
            problems.Add(NotLocal(flag, address, local));
        }
    }

    /// <summary>Null when the management API can listen on <paramref name="url"/>: binds its address and port for a
    /// moment and releases it (port 0 is not checked); else the reason, as the system gives it.</summary>
    internal static string? CannotListen(string url)
    {
        var uri = new Uri(url);
        if (uri.Port == 0)
        {
            return null;
        }

        var address = IPAddress.TryParse(uri.Host.Trim('[', ']'), out var parsed) ? parsed : IPAddress.Loopback;
        try
        {
            using var socket = new System.Net.Sockets.Socket(address.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(address, uri.Port));
            socket.Listen();
            return null;
        }
        catch (System.Net.Sockets.SocketException e)
        {
            var reason = e.Message.TrimEnd('.');
            return e.SocketErrorCode switch
            {
                System.Net.Sockets.SocketError.AddressAlreadyInUse => $"port {uri.Port} is in use (another program, or a running Tether)",
                System.Net.Sockets.SocketError.AddressNotAvailable => $"{address} is not an address of this machine",
                System.Net.Sockets.SocketError.AccessDenied => $"permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
                _ => char.ToLowerInvariant(reason[0]) + reason[1..],
            };
        }
    }

    /// <summary>The line for an address that is not this machine's.</summary>
    internal static string NotLocal(string flag, IPAddress address, HashSet<IPAddress> local) =>
        $"{flag} {address}: not an address of this machine (its addresses: {string.Join(", ", local.Where(a => a.AddressFamily == address.AddressFamily).Select(a => a.ToString()).Order(StringComparer.Ordinal))})";

    /// <summary>True when this process can bind <paramref name="address"/>: the wildcard, a loopback address, an
    /// address of one of this machine's interfaces, or any address when Linux's <c>net.ipv4.ip_nonlocal_bind</c> is
    /// 1 (a floating IP, as with keepalived).</summary>
    internal static bool IsUsable(IPAddress address, HashSet<IPAddress> local) =>
        address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || IPAddress.IsLoopback(address) || local.Contains(address) || NonLocalBind();

    /// <summary>True when a listener of this machine holds <paramref name="port"/> on an address overlapping
    /// <paramref name="address"/>: of the same family, equal or either one that family's wildcard. A <c>[::]</c>
    /// listener holds the IPv4 port only when it is dual-stack (IPV6_V6ONLY off): Tether's own IPv6 listeners are
    /// IPv6-only and leave <c>0.0.0.0:port</c> free, so a running Tether's IPv6 virtual IP does not make the IPv4 one's
    /// port look taken; another program's dual-stack listener does, which the system's listener table cannot tell, so
    /// <paramref name="canBind"/> (by default a bind of the IPv4 address for a moment, never a listen) decides.</summary>
    /// <param name="listeners">The system's listeners (TCP or UDP).</param>
    /// <param name="address">The address to be bound.</param>
    /// <param name="port">Its port.</param>
    /// <param name="udp">True for UDP listeners (the bind probe binds a datagram socket).</param>
    /// <param name="canBind">Whether the IPv4 address and port can be bound now; null for the real bind.</param>
    internal static bool Taken(IPEndPoint[] listeners, IPAddress address, int port, bool udp = false, Func<IPAddress, int, bool, bool>? canBind = null)
    {
        var wanted = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        foreach (var listener in listeners)
        {
            if (listener.Port != port)
            {
                continue;
            }

            var held = listener.Address.IsIPv4MappedToIPv6 ? listener.Address.MapToIPv4() : listener.Address;
            if (held.AddressFamily == wanted.AddressFamily)
            {
                if (held.Equals(wanted) || IsWildcard(held) || IsWildcard(wanted))
                {
                    return true;
                }
            }
            else if (held.Equals(IPAddress.IPv6Any) && !(canBind ?? CanBindNow)(wanted, port, udp))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsWildcard(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);

    /// <summary>Binds <paramref name="address"/>:<paramref name="port"/> for a moment (no listen, nothing accepted)
    /// and releases it: false when the system refuses it as in use.</summary>
    private static bool CanBindNow(IPAddress address, int port, bool udp)
    {
        try
        {
            using var socket = new System.Net.Sockets.Socket(address.AddressFamily,
                udp ? System.Net.Sockets.SocketType.Dgram : System.Net.Sockets.SocketType.Stream,
                udp ? System.Net.Sockets.ProtocolType.Udp : System.Net.Sockets.ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(address, port));
            return true;
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
        {
            return false;
        }
        catch (System.Net.Sockets.SocketException)
        {
            // Another reason (not this machine's address, permission): reported by the other checks, not as "in use".
            return true;
        }
    }

    /// <summary>The addresses of this machine's interfaces (and every address when Linux's
    /// <c>net.ipv4.ip_nonlocal_bind</c> is 1, as with a floating IP).</summary>
    internal static HashSet<IPAddress> LocalAddresses()
    {
        var set = new HashSet<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                set.Add(unicast.Address);
            }
        }

        return set;
    }

    /// <summary>True when Linux lets a process bind an IPv4 address that is not (yet) on an interface.</summary>
    internal static bool NonLocalBind()
    {
        try
        {
            return File.Exists("/proc/sys/net/ipv4/ip_nonlocal_bind") && File.ReadAllText("/proc/sys/net/ipv4/ip_nonlocal_bind").Trim() == "1";
        }
        catch (IOException)
        {
            return false;
        }
    }
}

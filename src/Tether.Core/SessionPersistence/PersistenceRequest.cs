namespace Tether.Core.SessionPersistence;

/// <summary>
/// The protocol-neutral view of a request or connection that a persistence policy reads its key from. Every data path
/// fills what it has without allocating: TCP and UDP only the client address; the HTTP paths also the persistence
/// cookie, the application cookie's key and the persistence header, each only when the load balancer's policy reads
/// it (<see cref="IPersistencePolicy.Inputs"/>).
/// </summary>
public readonly ref struct PersistenceRequest
{
    /// <summary>A view with every input.</summary>
    /// <param name="clientKey">The client's <see cref="ClientAddress.ToKey"/> (zero when unknown).</param>
    /// <param name="persistenceCookie">HTTP_COOKIE: the value of the load balancer's own cookie as the client sent
    /// it (empty when absent).</param>
    /// <param name="appCookieKey">APP_COOKIE: the <see cref="StableHash.OfCookie"/> key of the application cookie
    /// that decides (zero when none).</param>
    /// <param name="header">The value of the persistence header (<see cref="Runtime.LoadBalancerSnapshot.PersistenceHeaderName"/>)
    /// as the client sent it, its first field line; empty when absent.</param>
    public PersistenceRequest(UInt128 clientKey, ReadOnlySpan<char> persistenceCookie, UInt128 appCookieKey, ReadOnlySpan<char> header)
    {
        ClientKey = clientKey;
        PersistenceCookie = persistenceCookie;
        AppCookieKey = appCookieKey;
        Header = header;
    }

    /// <summary>The view of a layer 4 connection (or of a request whose persistence reads only the client
    /// address).</summary>
    public static PersistenceRequest ForClient(UInt128 clientKey) => new(clientKey, default, UInt128.Zero, default);

    /// <summary>The client's address key (<see cref="ClientAddress.ToKey"/>); zero when unknown.</summary>
    public UInt128 ClientKey { get; }

    /// <summary>HTTP_COOKIE: the load balancer's cookie value; empty when absent.</summary>
    public ReadOnlySpan<char> PersistenceCookie { get; }

    /// <summary>APP_COOKIE: the key of the application cookie that decides; zero when none.</summary>
    public UInt128 AppCookieKey { get; }

    /// <summary>The persistence header's value; empty when absent.</summary>
    public ReadOnlySpan<char> Header { get; }
}

/// <summary>Which parts of a <see cref="PersistenceRequest"/> a policy reads, so that a data path fills only
/// those.</summary>
[Flags]
public enum PersistenceInputs
{
    /// <summary>Nothing: the algorithm decides alone.</summary>
    None = 0,
    /// <summary><see cref="PersistenceRequest.ClientKey"/>.</summary>
    ClientAddress = 1,
    /// <summary><see cref="PersistenceRequest.PersistenceCookie"/> (the cookie named
    /// <see cref="Runtime.LoadBalancerSnapshot.CookieName"/>).</summary>
    PersistenceCookie = 2,
    /// <summary><see cref="PersistenceRequest.AppCookieKey"/> (the application cookie named
    /// <see cref="Runtime.LoadBalancerSnapshot.CookieName"/>, or any pinned one for <c>*</c>).</summary>
    AppCookie = 4,
    /// <summary><see cref="PersistenceRequest.Header"/> (the field named
    /// <see cref="Runtime.LoadBalancerSnapshot.PersistenceHeaderName"/>).</summary>
    Header = 8,
}

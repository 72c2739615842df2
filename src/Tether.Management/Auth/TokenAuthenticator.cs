using System.Buffers.Text;
using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Tether.Management.Storage;

namespace Tether.Management.Auth;

/// <summary>
/// Resolves the <c>X-Auth-Token</c> header to the one account it belongs to and its role (docs/api.md). Tokens come
/// from <see cref="ManagementOptions.Tokens"/> (role: its <c>Role</c>, default admin) and from the store's
/// <c>tokens</c> table (read on each request, so a token added or revoked by another process counts at once).
/// </summary>
internal sealed class TokenAuthenticator
{
    /// <summary>The file, in the data directory, that receives a generated admin token.</summary>
    public const string AdminTokenFileName = "admin-token";

    /// <summary>The account the generated admin token belongs to.</summary>
    public const int AdminAccountId = 1;

    private readonly FrozenDictionary<string, TokenGrant> _configured;
    private readonly IConfigurationStore _store;
    private readonly TetherStore _local;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public TokenAuthenticator(ManagementOptions options, TetherStore store, TimeProvider time, ILogger<TokenAuthenticator> logger)
        : this(options, store, store, time, logger)
    {
    }

    /// <summary>Tokens come from <paramref name="store"/> (cluster mode: the shared store); the generated admin token's
    /// file goes to <paramref name="local"/>'s data directory.</summary>
    public TokenAuthenticator(ManagementOptions options, IConfigurationStore store, TetherStore local, TimeProvider time, ILogger<TokenAuthenticator> logger)
    {
        _local = local;
        _configured = options.Tokens.ToFrozenDictionary(t => t.Token, t => new TokenGrant(t.AccountId, ParseRole(t.Role)), StringComparer.Ordinal);
        _store = store;
        _time = time;
        _logger = logger;
    }

    /// <summary>The account of <paramref name="token"/>, or null when it is empty or unknown.</summary>
    public int? FindAccount(string? token) => Find(token)?.AccountId;

    /// <summary>The account and role of <paramref name="token"/>, or null when it is empty or unknown.</summary>
    public TokenGrant? Find(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        return _configured.TryGetValue(token, out var grant) ? grant : _store.FindToken(token);
    }

    /// <summary>A configured token's role: empty is admin (the default); an unknown name never gets here
    /// (<see cref="ManagementServiceCollectionExtensions.AddTetherManagement"/> refuses it).</summary>
    internal static TokenRole ParseRole(string? role) =>
        string.IsNullOrWhiteSpace(role) ? TokenRole.Admin : TokenRoles.TryParse(role, out var parsed) ? parsed : TokenRole.Observer;

    /// <summary>
    /// First start: when no token is configured and none is stored, creates an admin token for account 1 (32 random
    /// bytes, base64url), stores it, writes it to <c>&lt;dataDir&gt;/admin-token</c> (created with mode 0600 on
    /// Unix, never world-readable) and logs the file's path, not the token. Returns the path, or null when a token
    /// already existed, or when the cluster store is unavailable (cluster mode started while Redis is away: no token
    /// is created, the file is removed again and event 3073 says so; the instance serves on).
    /// </summary>
    public string? EnsureAdminToken()
    {
        if (_configured.Count > 0 || _store.ListTokens().Count > 0)
        {
            return null;
        }

        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var path = Path.Combine(_local.DataDirectory, AdminTokenFileName);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            if (!OperatingSystem.IsWindows())
            {
                // A file that already existed keeps its mode on open: tighten it before the token is written.
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            writer.Write(token);
            writer.Write('\n');
        }

        try
        {
            _store.AddToken(token, AdminAccountId, _time.GetUtcNow());
        }
        catch (Storage.ConfigurationStoreUnavailableException e)
        {
            // Cluster mode, first start while Redis is away: a token that is in no store must not be handed out.
            File.Delete(path);
            ManagementLog.AdminTokenDeferred(_logger, e.Message);
            return null;
        }

        ManagementLog.AdminTokenCreated(_logger, path);
        return path;
    }
}

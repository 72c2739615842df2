using System.Globalization;

namespace Tether.Management.Storage;

/// <summary>The API tokens (table <c>tokens</c>): each with its account and role.</summary>
public sealed partial class TetherStore
{
    /// <summary>Stores a token for an account (one transaction). A token already stored is re-assigned.</summary>
    /// <param name="token">The token value, non-empty.</param>
    /// <param name="accountId">The account it belongs to, positive.</param>
    /// <param name="created">When it was created (UTC).</param>
    /// <param name="role">What it may do (default <see cref="Auth.TokenRole.Admin"/>).</param>
    /// <exception cref="ArgumentException">An empty token or a non-positive account.</exception>
    public void AddToken(string token, int accountId, DateTimeOffset created, Auth.TokenRole role = Auth.TokenRole.Admin)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        ArgumentOutOfRangeException.ThrowIfLessThan(accountId, 1);
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction(deferred: false);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO tokens(token, account_id, created, role) VALUES ($token, $account, $created, $role)
            ON CONFLICT(token) DO UPDATE SET account_id = excluded.account_id, created = excluded.created, role = excluded.role;
            """;
        command.Parameters.AddWithValue("$role", Auth.TokenRoles.Name(role));
        command.Parameters.AddWithValue("$token", token);
        command.Parameters.AddWithValue("$account", accountId);
        command.Parameters.AddWithValue("$created", created.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        command.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <summary>The account a stored token belongs to, or <c>null</c> when the store does not hold it.</summary>
    public int? FindTokenAccount(string token) => FindToken(token)?.AccountId;

    /// <summary>The account and role of a stored token, or <c>null</c> when the store does not hold it. A role name
    /// this build does not know (written by a newer build) reads as <see cref="Auth.TokenRole.Observer"/>, the least
    /// permissive.</summary>
    public Auth.TokenGrant? FindToken(string token)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = _tokensHaveRole
            ? "SELECT account_id, role FROM tokens WHERE token = $token;"
            : "SELECT account_id, 'admin' FROM tokens WHERE token = $token;";
        command.Parameters.AddWithValue("$token", token);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        return new Auth.TokenGrant(reader.GetInt32(0), StoredRole(reader.GetString(1)));
    }

    /// <summary>Every stored token with its account and role, ordered by creation time (<c>tether token list</c>).
    /// An unknown role name reads as observer, as in <see cref="FindToken"/>.</summary>
    public IReadOnlyList<(string Token, Auth.TokenGrant Grant)> ListTokenGrants()
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = _tokensHaveRole
            ? "SELECT token, account_id, role FROM tokens ORDER BY created, token;"
            : "SELECT token, account_id, 'admin' FROM tokens ORDER BY created, token;";
        using var reader = command.ExecuteReader();
        var result = new List<(string, Auth.TokenGrant)>();
        while (reader.Read())
        {
            result.Add((reader.GetString(0), new Auth.TokenGrant(reader.GetInt32(1), StoredRole(reader.GetString(2)))));
        }

        return result;
    }

    /// <summary>Every stored token with its account, ordered by creation time.</summary>
    public IReadOnlyList<(string Token, int AccountId)> ListTokens()
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT token, account_id FROM tokens ORDER BY created, token;";
        using var reader = command.ExecuteReader();
        var result = new List<(string, int)>();
        while (reader.Read())
        {
            result.Add((reader.GetString(0), reader.GetInt32(1)));
        }

        return result;
    }

    /// <summary>Deletes a stored token (one transaction); true when it existed.</summary>
    public bool DeleteToken(string token)
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction(deferred: false);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "DELETE FROM tokens WHERE token = $token;";
        command.Parameters.AddWithValue("$token", token);
        var deleted = command.ExecuteNonQuery() > 0;
        transaction.Commit();
        return deleted;
    }

    private static Auth.TokenRole StoredRole(string name) =>
        Auth.TokenRoles.TryParse(name, out var role) ? role : Auth.TokenRole.Observer;
}

using System.Security.Cryptography;
using System.Text;

namespace Tether.Management.Auth;

/// <summary>
/// The public id of an API token: the first 12 hexadecimal digits of the SHA-256 of the token (UTF-8). It names a
/// token in <c>tether token list</c> and <c>tether token revoke</c> without revealing any of the token (a prefix of the
/// token would): knowing the id does not help to guess the token.
/// </summary>
public static class TokenId
{
    /// <summary>The number of hexadecimal digits of an id.</summary>
    public const int Length = 12;

    /// <summary>The id of <paramref name="token"/>: 12 lowercase hexadecimal digits.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="token"/> is null.</exception>
    public static string Of(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(token), hash);
        return Convert.ToHexStringLower(hash)[..Length];
    }
}

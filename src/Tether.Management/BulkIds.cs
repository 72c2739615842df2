using Tether.Management.Api;

namespace Tether.Management;

/// <summary>The rule every bulk delete (<c>DELETE ...?id=1&amp;id=2</c>) shares: all or nothing. One id that does not
/// exist makes the whole request a 404 and nothing is deleted; with more than one id asked for, the details name the
/// missing ones (<c>Not found: 3, 7; nothing was deleted.</c>).</summary>
internal static class BulkIds
{
    /// <summary>Null when every id of <paramref name="requested"/> passes <paramref name="exists"/>; else
    /// <paramref name="notFound"/>, with details naming the missing ids when more than one id was asked for.</summary>
    /// <param name="requested">The ids asked for (distinct).</param>
    /// <param name="exists">Whether an id is there to delete.</param>
    /// <param name="notFound">The resource's 404 (for example <see cref="ApiError.NodeNotFound"/>).</param>
    /// <param name="where">How the details begin, before the ids (default <c>Not found</c>).</param>
    public static ApiError? Check(IReadOnlyCollection<int> requested, Func<int, bool> exists, ApiError notFound, string where = "Not found")
    {
        var missing = new List<int>();
        foreach (var id in requested)
        {
            if (!exists(id))
            {
                missing.Add(id);
            }
        }

        return missing.Count == 0 ? null : NotFound(requested.Count, missing, notFound, where);
    }

    /// <summary><paramref name="notFound"/> as is for a single id, else with details naming <paramref name="missing"/>.</summary>
    public static ApiError NotFound(int requestedCount, IReadOnlyCollection<int> missing, ApiError notFound, string where = "Not found") =>
        requestedCount == 1 ? notFound : notFound with { Details = $"{where}: {string.Join(", ", missing)}; nothing was deleted." };
}

namespace Tether.Management.Api;

/// <summary>
/// "Did you mean" hints for a mistyped name: one rule for the API's unknown fields (<c>cookieSecur: unknown field; did
/// you mean cookieSecure?</c>) and <c>tether serve</c>'s unknown settings (<c>DataDir: unknown setting; did you mean
/// DataDirectory?</c>), as nginx and git suggest the closest known word.
/// </summary>
public static class NameSuggestion
{
    /// <summary>The name of <paramref name="candidates"/> closest to <paramref name="name"/>, for a "did you mean"
    /// hint: the same name in another letter case; else the one at the smallest optimal string alignment distance
    /// (insertions, deletions, substitutions, adjacent swaps; letter case ignored) when that is at most a third of
    /// <paramref name="name"/>'s length (at least 1, at most 3); else, for a name of 4 characters or more, a candidate
    /// that starts or ends with it (or, 4 characters or more itself, ends it).</summary>
    /// <param name="name">The unknown name as given.</param>
    /// <param name="candidates">The known names.</param>
    /// <returns>The candidate as spelled in <paramref name="candidates"/>, or null when none is near.</returns>
    public static string? Closest(string name, IEnumerable<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(candidates);
        var known = candidates as IReadOnlyList<string> ?? [.. candidates];
        if (name.Length == 0)
        {
            return null;
        }

        foreach (var candidate in known)
        {
            if (string.Equals(candidate, name, StringComparison.OrdinalIgnoreCase))
            {
                return candidate;
            }
        }

        string? best = null;
        var bestDistance = int.MaxValue;
        var limit = Math.Max(1, Math.Min(3, name.Length / 3));
        foreach (var candidate in known)
        {
            var distance = Distance(name.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance <= limit && distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        if (best is null && name.Length >= 4)
        {
            best = known.FirstOrDefault(c => c.EndsWith(name, StringComparison.OrdinalIgnoreCase)
                || c.StartsWith(name, StringComparison.OrdinalIgnoreCase)
                || (c.Length >= 4 && name.EndsWith(c, StringComparison.OrdinalIgnoreCase)));
        }

        return best;
    }

    /// <summary>Optimal string alignment distance (insertions, deletions, substitutions, adjacent swaps).</summary>
    private static int Distance(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 3)
        {
            return int.MaxValue;
        }

        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}

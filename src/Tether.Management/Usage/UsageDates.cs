using System.Globalization;
using System.Text.RegularExpressions;

namespace Tether.Management.Usage;

/// <summary>
/// The <c>startTime</c> and <c>endTime</c> query parameters of the usage reports, read as Rackspace reads them
/// (lbrackspace/atlas-lb <c>DateTimeConverters.isoTocal</c>): ISO 8601, a date alone (<c>2026-12-01</c>, midnight
/// UTC; month and day may have one digit, as in the reference's <c>2011-5-1</c>) or a date and time
/// (<c>2026-12-01T10</c>, <c>T10:30</c>, <c>T10:30:15</c>, fractions of a second ignored), with an offset (<c>Z</c>,
/// <c>+01</c>, <c>+01:00</c>, <c>+0100</c>; a space stands for <c>+</c>, since an unencoded <c>+</c> in a query string
/// arrives as one) or without (UTC).
/// </summary>
internal static partial class UsageDates
{
    /// <summary>Rackspace's message for a date it cannot read.</summary>
    public const string FormatMessage = "Date parameters must follow ISO-8601 format";

    /// <summary>Rackspace's message for a start after the end.</summary>
    public const string OrderMessage = "Must specify an earlier startTime than endTime.";

    [GeneratedRegex(@"^(\d{4})-(\d{1,2})-(\d{1,2})(?:T(?:(\d{2})(?::(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?)?)?(Z|z|[+\- ]\d{2}(?::?\d{2})?)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>Reads <paramref name="text"/>; false when it is not such a date (or names no real day or time).</summary>
    public static bool TryParse(string text, out DateTimeOffset value)
    {
        value = default;
        var match = Pattern().Match(text);
        if (!match.Success)
        {
            return false;
        }

        var offset = TimeSpan.Zero;
        var zone = match.Groups[7].Value;
        if (zone.Length > 1)
        {
            var digits = zone[1..].Replace(":", "", StringComparison.Ordinal);
            var hours = int.Parse(digits[..2], CultureInfo.InvariantCulture);
            var minutes = digits.Length > 2 ? int.Parse(digits[2..], CultureInfo.InvariantCulture) : 0;
            if (hours > 14 || minutes > 59)
            {
                return false;
            }

            offset = new TimeSpan(hours, minutes, 0);
            if (zone[0] == '-')
            {
                offset = -offset;
            }
        }

        try
        {
            value = new DateTimeOffset(Number(match, 1), Number(match, 2), Number(match, 3), Number(match, 4), Number(match, 5),
                Number(match, 6), offset).ToUniversalTime();
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static int Number(Match match, int group) =>
        match.Groups[group].Success ? int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
}

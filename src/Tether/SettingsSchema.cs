using System.Collections;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Tether.Proxy;

namespace Tether;

/// <summary>
/// Thrown by <see cref="TetherHost.LoadSettings"/> when the settings cannot be used: a broken JSON file, an unknown
/// setting, a value of the wrong type or out of range. <see cref="Exception.Message"/> holds every reason, one per line;
/// <see cref="Errors"/> the same lines apart. <c>tether serve</c> prints them on standard error and exits with code 2.
/// </summary>
public sealed class SettingsException : ArgumentException
{
    /// <summary>Creates the exception from its reasons (at least one).</summary>
    /// <param name="errors">One line per reason, each naming the setting, the value and what is allowed.</param>
    public SettingsException(IReadOnlyList<string> errors)
        : base(string.Join('\n', errors))
    {
        Errors = errors;
    }

    /// <summary>Creates the exception from one reason.</summary>
    public SettingsException(string error)
        : this([error])
    {
    }

    /// <summary>Creates the exception with no reason (required by the exception pattern; prefer the other ones).</summary>
    public SettingsException()
        : this(["the settings are not valid"])
    {
    }

    /// <summary>Creates the exception from one reason and its cause.</summary>
    public SettingsException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [message];
    }

    /// <summary>The reasons, one per line, in the order found.</summary>
    public IReadOnlyList<string> Errors { get; }
}

/// <summary>
/// Every setting <c>tether serve</c> knows, with its type; checks each key and value given by the JSON file,
/// <c>TETHER_</c> environment variables and flags before anything is bound. Keys are case-insensitive (as .NET
/// configuration reads them). An unknown key is refused with the closest known name (edit distance at most a third of
/// its length, or one name the start of the other), as nginx refuses an unknown directive.
/// </summary>
internal static class SettingsSchema
{
    private enum Kind
    {
        Text,
        Url,
        MetricsUrl,
        IPv4,
        IPv6,
        Integer,
        PositiveInteger,
        Boolean,
        Role,
        RateLimits,
        DomainName,
    }

    /// <summary>The prefix of Tether's environment variables; every variable that starts with it must be a setting.</summary>
    public const string EnvironmentPrefix = "TETHER_";

    private const string TokenIndex = "#";

    /// <summary>Leaf settings by path (<c>#</c> stands for an array index).</summary>
    private static readonly Dictionary<string, Kind> Leaves = BuildLeaves();

    /// <summary>Section paths (objects or arrays), each with its children's names.</summary>
    private static readonly Dictionary<string, List<string>> Sections = BuildSections();

    private static Dictionary<string, Kind> BuildLeaves()
    {
        var leaves = new Dictionary<string, Kind>(StringComparer.OrdinalIgnoreCase)
        {
            ["DataDirectory"] = Kind.Text,
            ["ManagementUrl"] = Kind.Url,
            ["PublicAddress"] = Kind.IPv4,
            ["PrivateAddress"] = Kind.IPv4,
            ["PublicAddressV6"] = Kind.IPv6,
            ["Redis"] = Kind.Text,
            ["Instance"] = Kind.Text,
            ["Cluster:StickFetchTimeoutMilliseconds"] = Kind.PositiveInteger,
            ["Management:Url"] = Kind.Url,
            ["Management:MaskClientAddresses"] = Kind.Boolean,
            ["Management:MetricsRequireToken"] = Kind.Boolean,
            ["Management:MetricsUrl"] = Kind.MetricsUrl,
            ["Management:UsagePollSeconds"] = Kind.PositiveInteger,
            ["Management:UsageRetentionDays"] = Kind.PositiveInteger,
            [$"Management:Tokens:{TokenIndex}:Token"] = Kind.Text,
            [$"Management:Tokens:{TokenIndex}:AccountId"] = Kind.PositiveInteger,
            [$"Management:Tokens:{TokenIndex}:Role"] = Kind.Role,
            ["Management:RateLimits"] = Kind.RateLimits,
            [$"Management:AllowedDomains:{TokenIndex}"] = Kind.DomainName,
            ["Management:SourceAddresses:Ipv4Public"] = Kind.IPv4,
            ["Management:SourceAddresses:Ipv4Servicenet"] = Kind.IPv4,
            ["Management:SourceAddresses:Ipv6Public"] = Kind.IPv6,
        };

        // Every settable ProxyOptions property is a Proxy setting, except DataDirectory which the host sets.
        foreach (var property in typeof(ProxyOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is not { IsPublic: true } || property.Name == nameof(ProxyOptions.DataDirectory))
            {
                continue;
            }

            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            leaves["Proxy:" + property.Name] = type == typeof(bool) ? Kind.Boolean : type == typeof(int) ? Kind.Integer : Kind.Text;
        }

        return leaves;
    }

    private static Dictionary<string, List<string>> BuildSections()
    {
        var sections = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase) { [""] = [] };
        foreach (var leaf in Leaves.Keys)
        {
            var segments = leaf.Split(':');
            for (var i = 0; i < segments.Length; i++)
            {
                var parent = string.Join(':', segments[..i]);
                if (!sections.TryGetValue(parent, out var children))
                {
                    sections[parent] = children = [];
                }

                if (!children.Contains(segments[i], StringComparer.OrdinalIgnoreCase))
                {
                    children.Add(segments[i]);
                }
            }
        }

        return sections;
    }

    /// <summary>Reads a JSON settings file: its text must be one JSON object (comments and trailing commas allowed, as
    /// the .NET JSON configuration reads it).</summary>
    /// <returns>The flattened <c>key → value</c> pairs (section paths joined with <c>:</c>).</returns>
    /// <exception cref="SettingsException">The file cannot be read, or is not valid JSON (the message gives its path,
    /// line, column and reason), or holds a key twice.</exception>
    public static List<KeyValuePair<string, string?>> ReadJsonFile(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SettingsException($"{path}: cannot be read ({e.Message.TrimEnd('.')})", e);
        }

        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var result = new List<KeyValuePair<string, string?>>();
        try
        {
            if (!reader.Read())
            {
                throw new SettingsException($"{path}: the file is empty; it must hold one JSON object, for example {{ \"DataDirectory\": \"/var/lib/tether\" }}");
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new SettingsException($"{path}: line {LineOf(bytes, ref reader)}: the file must hold one JSON object, not {Describe(reader.TokenType)}");
            }

            ReadObject(ref reader, "", result, path, bytes);
            if (reader.Read())
            {
                throw new SettingsException($"{path}: more than one JSON value; the file must hold one JSON object");
            }
        }
        catch (JsonException e)
        {
            var reason = e.Message;
            var cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0)
            {
                reason = reason[..cut];
            }

            throw new SettingsException(string.Create(CultureInfo.InvariantCulture,
                $"{path}: line {(e.LineNumber ?? 0) + 1}, column {(e.BytePositionInLine ?? 0) + 1}: {reason.TrimEnd('.')}"), e);
        }

        return result;
    }

    private static string Describe(JsonTokenType type) => type switch
    {
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "true or false",
        JsonTokenType.Null => "null",
        _ => type.ToString(),
    };

    private static void ReadObject(ref Utf8JsonReader reader, string prefix, List<KeyValuePair<string, string?>> result, string path, byte[] bytes)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var empty = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            empty = false;
            var line = LineOf(bytes, ref reader);
            var name = reader.GetString()!;
            if (!seen.Add(name))
            {
                throw new SettingsException($"{path}: line {line}: {prefix}{name} is given twice");
            }

            reader.Read();
            ReadValue(ref reader, prefix + name, result, path, bytes);
        }

        if (empty && prefix.Length > 0)
        {
            result.Add(new(prefix.TrimEnd(':'), null));
        }
    }

    private static void ReadValue(ref Utf8JsonReader reader, string key, List<KeyValuePair<string, string?>> result, string path, byte[] bytes)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                ReadObject(ref reader, key + ":", result, path, bytes);
                break;
            case JsonTokenType.StartArray:
                var index = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    ReadValue(ref reader, key + ":" + index.ToString(CultureInfo.InvariantCulture), result, path, bytes);
                    index++;
                }

                if (index == 0)
                {
                    result.Add(new(key, null));
                }

                break;
            case JsonTokenType.String:
                result.Add(new(key, reader.GetString()));
                break;
            case JsonTokenType.Null:
                result.Add(new(key, ""));
                break;
            default:
                result.Add(new(key, Encoding.UTF8.GetString(reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan)));
                break;
        }
    }

    private static int LineOf(byte[] bytes, ref Utf8JsonReader reader) =>
        // Utf8JsonReader keeps no public line number; count the newlines before the token (the files are small).
        bytes.AsSpan(0, (int)reader.TokenStartIndex).Count((byte)'\n') + 1;

    /// <summary>The <c>TETHER_</c> environment variables, as setting keys (<c>__</c> between levels, as .NET reads
    /// them) with the variable's name.</summary>
    /// <param name="environment">The variables to read; null for the process's.</param>
    public static List<(string Key, string? Value, string Variable)> ReadEnvironment(IReadOnlyDictionary<string, string>? environment = null)
    {
        var variables = environment?.Select(v => (v.Key, (string?)v.Value))
            ?? Environment.GetEnvironmentVariables().Cast<DictionaryEntry>().Select(e => ((string)e.Key, (string?)e.Value));
        var result = new List<(string, string?, string)>();
        foreach (var (name, value) in variables)
        {
            if (name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            {
                result.Add((name[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal), value, name));
            }
        }

        result.Sort((a, b) => string.CompareOrdinal(a.Item3, b.Item3));
        return result;
    }

    /// <summary>Checks one key and value from one source; adds a line per problem to <paramref name="errors"/>.</summary>
    /// <param name="key">The setting's path, <c>:</c> between levels.</param>
    /// <param name="value">Its value; null for an empty object or array in the JSON file.</param>
    /// <param name="display">How the operator wrote the key (the JSON path, the variable, the flag).</param>
    /// <param name="source">Where it came from, for the message (the file's path, "environment", "flag").</param>
    /// <param name="errors">Receives the problems.</param>
    /// <param name="reported">Unknown prefixes already reported (each is reported once).</param>
    public static void Check(string key, string? value, string display, string source, List<string> errors, HashSet<string> reported)
    {
        var segments = key.Split(':');
        var environment = display.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase);
        var known = new List<string>();
        var canonical = new List<string>();
        for (var i = 0; i < segments.Length; i++)
        {
            var parent = string.Join(':', known);
            var segment = segments[i];
            if (Sections.TryGetValue(parent, out var arrayItems) && arrayItems.Contains(TokenIndex))
            {
                if (!int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    var example = parent.Equals("Management:Tokens", StringComparison.OrdinalIgnoreCase)
                        ? "[ { \"Token\": \"...\", \"AccountId\": 1 } ] (or TETHER_MANAGEMENT__TOKENS__0__TOKEN)"
                        : "[ \"example.com\" ] (or TETHER_MANAGEMENT__ALLOWEDDOMAINS__0)";
                    Report(errors, reported, source + "|" + parent + ":" + segment, $"{Shown(string.Join(':', segments[..(i + 1)]), environment, display)}: {string.Join(':', canonical)} is an array; give {example} ({source})");
                    return;
                }

                known.Add(TokenIndex);
                canonical.Add(segment);
                continue;
            }

            if (!Sections.TryGetValue(parent, out var children))
            {
                // A single value given as a section (DataDirectory:Path).
                Report(errors, reported, source + "|" + parent, $"{Shown(string.Join(':', canonical), environment)}: is a single value, not a section ({source})");
                return;
            }

            var match = children.FirstOrDefault(n => n.Equals(segment, StringComparison.OrdinalIgnoreCase));
            if (match is null)
            {
                var path = string.Join(':', segments[..(i + 1)]);
                var suggestion = Suggest(segment, children);
                var parentShown = string.Join(':', canonical);
                var hint = suggestion is null ? $"known here: {string.Join(", ", children.Where(n => n != TokenIndex))}"
                    : $"did you mean {Shown(parentShown.Length == 0 ? suggestion : parentShown + ":" + suggestion, environment)}?";
                Report(errors, reported, source + "|" + path.ToUpperInvariant(), $"{Shown(path, environment, i == segments.Length - 1 ? display : null)}: unknown setting; {hint} ({source})");
                return;
            }

            known.Add(match);
            canonical.Add(match);
        }

        var full = string.Join(':', known);
        if (Sections.ContainsKey(full))
        {
            if (value is not null && value.Length > 0)
            {
                errors.Add($"{Shown(key, environment, display)}: is a section, not a value (got \"{value}\"); give {(Sections[full].Contains(TokenIndex) ? "an array" : "an object")} ({source})");
            }

            return;
        }

        var error = CheckValue(Leaves[full], full, value);
        if (error is not null)
        {
            errors.Add($"{Shown(string.Join(':', canonical), environment, display)}: {error} ({source})");
        }
    }

    private static string Shown(string path, bool environment, string? display = null)
    {
        if (display is not null && display.StartsWith("--", StringComparison.Ordinal))
        {
            return display;
        }

        if (!environment)
        {
            return path;
        }

        return display ?? EnvironmentPrefix + path.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant();
    }

    private static void Report(List<string> errors, HashSet<string> reported, string path, string message)
    {
        if (reported.Add(path))
        {
            errors.Add(message);
        }
    }

    /// <summary>Checks a value against its kind; null when it is valid, else the reason (the value and what is
    /// allowed).</summary>
    private static string? CheckValue(Kind kind, string name, string? value)
    {
        value ??= "";
        switch (kind)
        {
            case Kind.Text:
                return value.Length == 0 ? "is empty; give a non-empty string" : null;
            case Kind.Url:
                return CheckUrl(value);
            case Kind.MetricsUrl:
                // Empty: /metrics stays on the management port.
                return value.Length == 0 ? null
                    : CheckUrl(value) ?? (new Uri(value).Port is var port && (port == 0 || !value.TrimEnd('/').EndsWith(":" + port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal))
                        ? $"\"{value}\" needs a port from 1 to 65535; give http://ADDRESS:PORT, for example http://127.0.0.1:9100"
                        : null);
            case Kind.IPv4:
                return CheckIPv4(value);
            case Kind.IPv6:
                return CheckIPv6(value);
            case Kind.Boolean:
                return bool.TryParse(value, out _) ? null : $"\"{value}\" is not a boolean; give true or false";
            case Kind.Role:
                return Management.Auth.TokenRoles.TryParse(value, out _) ? null : $"\"{value}\" is not a role; give observer (GET only), creator (GET, POST, PUT) or admin (every method, the default)";
            case Kind.RateLimits:
                return Management.Auth.RateLimitRules.Parse(value, out _);
            case Kind.DomainName:
                return Management.AllowedDomainNames.Check(value);
            case Kind.Integer:
            case Kind.PositiveInteger:
                if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
                {
                    var what = kind == Kind.PositiveInteger ? ", 1 or more" : name.EndsWith("Seconds", StringComparison.OrdinalIgnoreCase) ? " of seconds, such as 5" : ", such as 64";
                    return $"\"{value}\" is not a whole number; give a whole number{what}";
                }

                return kind == Kind.PositiveInteger && number < 1 ? $"is {number}; it must be at least 1" : null;
            default:
                return null;
        }
    }

    /// <summary>Null when <paramref name="value"/> is a usable management URL: <c>http://ADDRESS:PORT</c> with an IP
    /// address or <c>localhost</c>, no path; else the reason.</summary>
    public static string? CheckUrl(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp
            || uri.AbsolutePath != "/" || string.IsNullOrEmpty(uri.Host) || !string.IsNullOrEmpty(uri.Query))
        {
            return $"\"{value}\" is not a valid management URL; give http://ADDRESS:PORT, for example http://127.0.0.1:8080";
        }

        if (!uri.IsLoopback && !IPAddress.TryParse(uri.Host.Trim('[', ']'), out _))
        {
            return $"\"{value}\": the host must be an IP address or localhost (a host name would make the API listen on every interface); for example http://127.0.0.1:8080";
        }

        return null;
    }

    /// <summary>Null when <paramref name="value"/> is an IPv4 literal in dotted-quad form; else the reason.</summary>
    public static string? CheckIPv4(string value) =>
        IPAddress.TryParse(value, out var address) && address.AddressFamily == AddressFamily.InterNetwork && value.Split('.').Length == 4
            ? null
            : $"\"{value}\" is not an IPv4 address; give a dotted-quad address of this machine, such as 0.0.0.0 (every interface), 127.0.0.1 or 10.0.0.5";

    /// <summary>Null when <paramref name="value"/> is an IPv6 literal (not IPv4-mapped); else the reason.</summary>
    public static string? CheckIPv6(string value) =>
        IPAddress.TryParse(value, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6 && !address.IsIPv4MappedToIPv6
            ? null
            : $"\"{value}\" is not an IPv6 address; give an IPv6 address of this machine, such as :: (every interface), ::1 or 2001:db8::5";

    /// <summary>The closest of <paramref name="candidates"/> to <paramref name="name"/> for a "did you mean" hint, by
    /// the API's rule (<see cref="Management.Api.NameSuggestion.Closest"/>); the array index placeholder is never one.</summary>
    public static string? Suggest(string name, IEnumerable<string> candidates) =>
        Management.Api.NameSuggestion.Closest(name, candidates.Where(c => c != TokenIndex));
}

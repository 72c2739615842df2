using Tether.Management.Api;

namespace Tether.Management.Requests;

/// <summary>A health monitor as a request body gives it (PUT <c>/healthmonitor</c> or inside a create request), before
/// validation. Null means absent.</summary>
internal sealed class HealthMonitorRequest
{
    /// <summary>The path of the object in the body for messages (<c>healthMonitor</c>), or empty.</summary>
    public required string Prefix { get; init; }

    public required ReadIssues Issues { get; init; }

    public string? Type { get; init; }
    public int? Delay { get; init; }
    public int? Timeout { get; init; }
    public int? AttemptsBeforeDeactivation { get; init; }
    public string? Path { get; init; }
    public string? StatusRegex { get; init; }
    public string? BodyRegex { get; init; }
    public string? HostHeader { get; init; }

    /// <summary>The field's path for messages.</summary>
    public string PathOf(string field) => Prefix.Length == 0 ? field : Prefix + "." + field;

    /// <summary>Reads a PUT <c>/healthmonitor</c> body, reporting fields outside <see cref="FieldSet.HealthMonitor"/>.</summary>
    public static HealthMonitorRequest ReadChecked(FieldReader reader)
    {
        reader.CheckFields(FieldSet.HealthMonitor);
        return Read(reader);
    }

    public static HealthMonitorRequest Read(FieldReader reader) => new()
    {
        Prefix = reader.Prefix,
        Issues = reader.Issues,
        Type = reader.String("type"),
        Delay = reader.Int("delay"),
        Timeout = reader.Int("timeout"),
        AttemptsBeforeDeactivation = reader.Int("attemptsBeforeDeactivation"),
        Path = reader.String("path"),
        StatusRegex = reader.String("statusRegex"),
        BodyRegex = reader.String("bodyRegex"),
        HostHeader = reader.String("hostHeader"),
    };
}

namespace Tether.Management.OpenApi.Schemas;

/// <summary><c>GET /healthz</c>: 200 <c>{"status":"ready","checks":[...]}</c>, or 503 <c>{"status":"notReady","code":503,
/// "message","checks":[...]}</c> (<c>Health/HealthzEndpoint.cs</c>).</summary>
internal sealed class Readiness
{
    /// <summary><c>ready</c> or <c>notReady</c>.</summary>
    public required string Status { get; init; }

    /// <summary>503 when not ready.</summary>
    public int? Code { get; init; }

    /// <summary>The reasons, when not ready.</summary>
    public string? Message { get; init; }

    /// <summary>Each readiness check.</summary>
    public required IReadOnlyList<ReadinessCheckResult> Checks { get; init; }
}

/// <summary>One check: <c>{"name","ready","reason"?}</c>.</summary>
internal sealed class ReadinessCheckResult
{
    /// <summary>The check, e.g. <c>dataPlane</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Whether it passes.</summary>
    public required bool Ready { get; init; }

    /// <summary>Why not, when it does not.</summary>
    public string? Reason { get; init; }
}

namespace Tether.Management.Health;

/// <summary>
/// One condition of readiness, as <c>GET /healthz</c> reports it (docs/operations.md "Readiness"): the instance is
/// ready when every registered check is. Register more with
/// <c>services.AddSingleton&lt;IReadinessCheck, MyCheck&gt;()</c> (for example cluster mode's "configuration in
/// sync"); every registration is resolved and asked at each request.
/// </summary>
public interface IReadinessCheck
{
    /// <summary>A short camelCase name shown in the <c>/healthz</c> body, such as <c>dataPlane</c>.</summary>
    string Name { get; }

    /// <summary>Whether this condition holds now. Called for each <c>/healthz</c> request, so it must be cheap (no
    /// network wait longer than the caller's health-check timeout) and must not throw; a throw is reported as not
    /// ready with a fixed reason. The reason is shown to anyone who can reach the management port without a token: it
    /// must name no secret (no token, key or connection string password).</summary>
    /// <param name="cancellationToken">Cancelled when the client goes away.</param>
    ValueTask<ReadinessResult> CheckAsync(CancellationToken cancellationToken);
}

/// <summary>The answer of an <see cref="IReadinessCheck"/>: ready, or not ready with a reason (one line of text).</summary>
/// <param name="IsReady">True when the condition holds.</param>
/// <param name="Reason">Why not (null when ready).</param>
public readonly record struct ReadinessResult(bool IsReady, string? Reason)
{
    /// <summary>The condition holds.</summary>
    public static ReadinessResult Ready { get; } = new(true, null);

    /// <summary>The condition does not hold, because of <paramref name="reason"/>.</summary>
    public static ReadinessResult NotReady(string reason) => new(false, reason);
}

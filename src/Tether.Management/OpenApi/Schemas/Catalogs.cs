using System.Text.Json.Serialization;

namespace Tether.Management.OpenApi.Schemas;

/// <summary><c>{"protocols":[{"name","port"}]}</c>.</summary>
internal sealed class ProtocolList
{
    /// <summary>The protocols and their default ports.</summary>
    public required IReadOnlyList<ProtocolItem> Protocols { get; init; }
}

/// <summary>A protocol and its default port.</summary>
internal sealed class ProtocolItem
{
    /// <summary>e.g. <c>HTTP</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Its default port.</summary>
    public required int Port { get; init; }
}

/// <summary><c>{"algorithms":[{"name"}]}</c>.</summary>
internal sealed class AlgorithmList
{
    /// <summary>The algorithms.</summary>
    public required IReadOnlyList<NameOnly> Algorithms { get; init; }
}

/// <summary><c>{"absolute":[{"name","value"}]}</c>.</summary>
internal sealed class AbsoluteLimitList
{
    /// <summary>The absolute limits.</summary>
    public required IReadOnlyList<AbsoluteLimit> Absolute { get; init; }
}

/// <summary>An absolute limit, e.g. <c>{"name":"NODE_LIMIT","value":25}</c>.</summary>
internal sealed class AbsoluteLimit
{
    /// <summary>The limit's name.</summary>
    public required string Name { get; init; }

    /// <summary>Its value.</summary>
    public required int Value { get; init; }
}

/// <summary><c>{"limits":{"rate":[...],"absolute":[...]}}</c>.</summary>
internal sealed class LimitsEnvelope
{
    /// <summary>The account's limits.</summary>
    public required AccountLimits Limits { get; init; }
}

/// <summary>Rate limits (empty when off) and absolute limits.</summary>
internal sealed class AccountLimits
{
    /// <summary>The rate limits of the account.</summary>
    public required IReadOnlyList<RateLimitGroup> Rate { get; init; }

    /// <summary>The absolute limits.</summary>
    public required IReadOnlyList<AbsoluteLimit> Absolute { get; init; }
}

/// <summary>The rate limits of a URI.</summary>
internal sealed class RateLimitGroup
{
    /// <summary>The URI the limits apply to.</summary>
    public required string Uri { get; init; }

    /// <summary>Its regular expression.</summary>
    public required string Regex { get; init; }

    /// <summary>The rules.</summary>
    public required IReadOnlyList<RateLimit> Limit { get; init; }
}

/// <summary>A rate limit rule and what is left of it.</summary>
internal sealed class RateLimit
{
    /// <summary>The HTTP method (or <c>*</c>).</summary>
    public required string Verb { get; init; }

    /// <summary>Calls allowed per unit.</summary>
    public required int Value { get; init; }

    /// <summary>Calls left now.</summary>
    public required int Remaining { get; init; }

    /// <summary><c>SECOND</c>, <c>MINUTE</c>, <c>HOUR</c> or <c>DAY</c>.</summary>
    public required string Unit { get; init; }

    /// <summary>When a call is available again, ISO 8601 UTC.</summary>
    [JsonPropertyName("next-available")]
    public required string NextAvailable { get; init; }
}

/// <summary><c>{"allowedDomains":[{"allowedDomain":{"name"}}]}</c>.</summary>
internal sealed class AllowedDomainList
{
    /// <summary>The domains node host names may be in (empty: any).</summary>
    public required IReadOnlyList<AllowedDomainEnvelope> AllowedDomains { get; init; }
}

/// <summary><c>{"allowedDomain":{"name"}}</c>.</summary>
internal sealed class AllowedDomainEnvelope
{
    /// <summary>The domain.</summary>
    public required NameOnly AllowedDomain { get; init; }
}

using System.Text.Json.Serialization;

namespace Tether.Management.OpenApi.Schemas;

/// <summary>The API's error body (<c>Api/ApiError.cs</c>; docs/api.md "Errors"): flat, <c>{"message","code","details"?}</c>,
/// and for a validation failure (400) <c>validationErrors.messages</c>, one message per problem.</summary>
internal sealed class ApiErrorBody
{
    /// <summary>What went wrong, e.g. <c>Load balancer not found</c> or <c>Validation Failure</c>.</summary>
    public required string Message { get; init; }

    /// <summary>The HTTP status code again (400, 401, 403, 404, 405, 413, 422, 500, 503).</summary>
    public required int Code { get; init; }

    /// <summary>More about the error, when there is more to say.</summary>
    public string? Details { get; init; }

    /// <summary>Validation failures only: every problem found.</summary>
    public ValidationErrors? ValidationErrors { get; init; }
}

/// <summary>The messages of a validation failure, each naming its field: <c>"port: must be 1 to 65535"</c>.</summary>
internal sealed class ValidationErrors
{
    /// <summary>One message per problem.</summary>
    public required IReadOnlyList<string> Messages { get; init; }
}

/// <summary>Rackspace's overLimit fault (413) when a rate limit of the account is used up (<c>Auth/ApiRateLimiter.cs</c>);
/// the response carries <c>Retry-After</c> too.</summary>
internal sealed class OverLimitFault
{
    /// <summary>The fault.</summary>
    public required OverLimitDetails OverLimit { get; init; }
}

/// <summary>The body of <see cref="OverLimitFault"/>.</summary>
internal sealed class OverLimitDetails
{
    /// <summary>Always 413.</summary>
    public required int Code { get; init; }

    /// <summary><c>OverLimit Retry...</c></summary>
    public required string Message { get; init; }

    /// <summary>Which rule was hit and when to retry.</summary>
    public required string Details { get; init; }

    /// <summary>When the next call is allowed (ISO 8601 UTC).</summary>
    [JsonPropertyName("retryAfter")]
    public required string RetryAfter { get; init; }
}

/// <summary>The empty JSON object <c>{}</c> that a few calls answer with (PUT and DELETE of <c>/errorpage</c> and
/// <c>/ssltermination</c>).</summary>
internal sealed class EmptyObject;

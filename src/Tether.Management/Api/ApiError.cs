using System.Text.Json.Nodes;

namespace Tether.Management.Api;

/// <summary>
/// An error answer of the API, written flat (docs/api.md): <c>{"message","code","details"?}</c>, and for
/// validation failures <c>{"message":"Validation Failure","code":400,"details":"The object is not valid",
/// "validationErrors":{"messages":[...]}}</c>.
/// </summary>
internal sealed record ApiError(int Code, string Message, string? Details = null, IReadOnlyList<string>? ValidationMessages = null)
{
    public static readonly ApiError LoadBalancerNotFound = new(404, "Load balancer not found");

    public static readonly ApiError NodeNotFound = new(404, "Node not found");

    /// <summary>A certificate mapping call on a load balancer without SSL termination (Rackspace's wording).</summary>
    public static readonly ApiError SslTerminationNotFound = new(404, "SSL termination not found",
        "Certificate mappings need SSL termination: configure it first with PUT /loadbalancers/{id}/ssltermination.");

    public static readonly ApiError CertificateMappingNotFound = new(404, "Certificate mapping not found");
    public static readonly ApiError MetadataNotFound = new(404, "Metadata item not found");

    public static readonly ApiError Internal = new(500, "Internal server error",
        "The change could not be completed; nothing was changed. See the server log.");

    /// <summary>Cluster mode (issue 14): the shared store (Redis) cannot be reached, so configuration writes are
    /// refused; the data plane keeps serving the last configuration.</summary>
    public static readonly ApiError ClusterStoreUnavailable = new(503, "Service Unavailable",
        "The cluster store is unavailable: configuration changes are refused until it is back; nothing was changed. Load balancers keep serving their last configuration.");

    public static ApiError Validation(IReadOnlyList<string> messages) =>
        new(400, "Validation Failure", "The object is not valid", messages);

    public static ApiError Validation(string message) => Validation([message]);

    public static ApiError BadRequest(string message, string? details = null) => new(400, message, details);

    /// <summary>422, Rackspace's wording (docs/api.md).</summary>
    public static ApiError Immutable(int id, string status) =>
        new(422, $"Load Balancer '{id}' has a status of '{status}' and is considered immutable.");

    public JsonObject ToJson()
    {
        var body = new JsonObject { ["message"] = Message, ["code"] = Code };
        if (Details is not null)
        {
            body["details"] = Details;
        }

        if (ValidationMessages is not null)
        {
            body["validationErrors"] = new JsonObject
            {
                ["messages"] = new JsonArray([.. ValidationMessages.Select(m => (JsonNode?)JsonValue.Create(m))]),
            };
        }

        return body;
    }
}

/// <summary>A value or an <see cref="ApiError"/>.</summary>
internal readonly struct Outcome<T>
{
    private Outcome(T? value, ApiError? error)
    {
        Value = value;
        Error = error;
    }

    public T? Value { get; }

    public ApiError? Error { get; }

    public static implicit operator Outcome<T>(T value) => new(value, null);

    public static implicit operator Outcome<T>(ApiError error) => new(default, error);
}

using System.Globalization;
using Microsoft.AspNetCore.Http;
using Tether.Management.Api;

namespace Tether.Management.Endpoints;

/// <summary>Small helpers shared by the endpoint files.</summary>
internal static class EndpointHelpers
{
    /// <summary>
    /// The ids of a bulk delete (<c>?id=1&amp;id=2</c>): at least one, each an integer, at most
    /// <see cref="Limits.BatchDeleteLimit"/> distinct ones (Rackspace BATCH_DELETE_LIMIT). Errors are 400.
    /// </summary>
    public static Outcome<IReadOnlyCollection<int>> ParseBulkIds(HttpRequest request, string what)
    {
        var values = request.Query["id"];
        if (values.Count == 0)
        {
            return ApiError.Validation($"id: give the {what} to delete as query parameters (?id=1&id=2)");
        }

        var ids = new List<int>();
        var errors = new List<string>();
        foreach (var value in values)
        {
            if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
            {
                if (!ids.Contains(id))
                {
                    ids.Add(id);
                }
            }
            else
            {
                errors.Add($"id: '{value}' is not a positive integer");
            }
        }

        if (ids.Count > Limits.BatchDeleteLimit)
        {
            errors.Add($"id: at most {Limits.BatchDeleteLimit} {what} can be deleted at once (BATCH_DELETE_LIMIT; got {ids.Count})");
        }

        return errors.Count > 0 ? ApiError.Validation(errors) : ids;
    }

    /// <summary>The result of an <see cref="Outcome{T}"/>: its error, or <paramref name="success"/>.</summary>
    public static IResult Respond<T>(Outcome<T> outcome, Func<T, IResult> success) =>
        outcome.Error is { } error ? JsonNodeResult.Error(error) : success(outcome.Value!);

    /// <summary>
    /// The preamble of a write to a part of a load balancer: 404 (<see cref="ApiError.LoadBalancerNotFound"/>) when the
    /// account has no load balancer <paramref name="id"/>, checked before the body is read; then
    /// <see cref="ReadRootObjectAsync"/> (400 for malformed JSON or a body of the wrong shape).
    /// </summary>
    public static async Task<Outcome<FieldReader>> FindThenReadAsync(LoadBalancerService service, int account, int id, HttpContext http, string rootKey) =>
        service.Find(account, id) is null ? ApiError.LoadBalancerNotFound : await ReadRootObjectAsync(http, rootKey);

    /// <summary>
    /// Reads a request body that holds one object, with or without its root key (docs/api.md: real SDKs
    /// send both), as a <see cref="FieldReader"/>. Malformed JSON or a body of the wrong shape is the 400 to answer.
    /// </summary>
    public static async Task<Outcome<FieldReader>> ReadRootObjectAsync(HttpContext http, string rootKey)
    {
        var body = await RequestJson.ReadAsync(http.Request, http.RequestAborted);
        if (body.Error is { } bad)
        {
            return bad;
        }

        var issues = new ReadIssues();
        var element = RequestJson.UnwrapObject(body.Value, rootKey, issues, out var shapeError);
        return element is null ? shapeError! : new FieldReader(element.Value, "", issues);
    }
}

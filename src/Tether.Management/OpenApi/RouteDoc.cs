namespace Tether.Management.OpenApi;

/// <summary>
/// What the API description says about one route (its endpoint metadata; see <see cref="RouteDocs"/>): the tag and
/// summary, the request body type, the success status and body type (null: empty body), the error statuses the route
/// itself answers, and the query parameters it reads. The errors every <c>/v1.0</c> route shares (401, 403, 413 over
/// the rate limit; 500 and 503 for writes) are added by <see cref="ApiOperationTransformer"/>.
/// </summary>
/// <param name="Method">HTTP method, upper case.</param>
/// <param name="Path">The route template as mapped, relative to <c>/v1.0/{account:int}</c> (or absolute for routes outside it).</param>
/// <param name="Tag">The explorer's group.</param>
/// <param name="Summary">One line.</param>
/// <param name="Success">The success status (200 or 202).</param>
/// <param name="Response">The success body's type (<c>OpenApi/Schemas</c>), or null for an empty body.</param>
/// <param name="Request">The request body's type, or null when the route reads none.</param>
/// <param name="Errors">The error statuses the route answers besides the shared ones.</param>
/// <param name="Query">The query parameters it reads (names of <see cref="QueryParameters"/>).</param>
/// <param name="ErrorBody">The error body's type: <see cref="Schemas.ApiErrorBody"/> unless given.</param>
internal sealed record RouteDoc(string Method, string Path, string Tag, string Summary, int Success, Type? Response,
    Type? Request = null, int[]? Errors = null, string[]? Query = null, Type? ErrorBody = null)
{
    /// <summary>Whether the route changes configuration (POST, PUT, DELETE): 500 and 503 are possible.</summary>
    public bool IsWrite => Method is "POST" or "PUT" or "DELETE";
}

using Tether.Core.Model;
using Tether.Management.Api;

namespace Tether.Management;

public sealed partial class LoadBalancerService
{
    /// <summary>The message for content caching asked of a load balancer that is not HTTP.</summary>
    internal static string ContentCachingNeedsHttp(string protocol) =>
        $"contentCaching: content caching needs an HTTP load balancer (it caches HTTP answers); this load balancer is {protocol}";

    /// <summary>The <c>contentCaching</c> of a create body (Rackspace's create call accepts it; issue 12 item 8):
    /// <c>{"enabled":true|false}</c>, <c>enabled</c> required, true only for an HTTP load balancer. Errors are added to
    /// <paramref name="errors"/>, so that the create is all or nothing.</summary>
    private static void ValidateContentCachingAtCreation(Requests.LoadBalancerRequest request, List<string> errors)
    {
        if (request.ContentCachingMissingEnabled)
        {
            errors.Add("contentCaching.enabled: required (true or false)");
        }

        if (request.ContentCaching == true && request.Protocol is { } protocol && protocol != Protocols.Http)
        {
            errors.Add(ContentCachingNeedsHttp(protocol));
        }
    }

    /// <summary>Turns content caching on or off (Rackspace v1.0 "Update content caching": PUT
    /// <c>{"contentCaching":{"enabled":true|false}}</c>, 202). 400 when <c>enabled</c> is missing or not a boolean, or
    /// when caching is turned on for a load balancer whose protocol is not HTTP (turning it off is always accepted).</summary>
    internal Task<Outcome<LoadBalancerConfig>> SetContentCachingAsync(int accountId, int id, FieldReader reader,
        CancellationToken cancellationToken) =>
        MutateAsync(accountId, id, existing =>
        {
            reader.CheckFields(FieldSet.ContentCaching);
            var enabled = reader.Bool("enabled");
            var errors = new List<string>(reader.Issues.Messages);
            if (enabled is null && reader.Issues.Messages.Count == 0)
            {
                errors.Add("contentCaching.enabled: required (true or false)");
            }

            if (enabled == true && existing.Protocol != Protocols.Http)
            {
                errors.Add(ContentCachingNeedsHttp(existing.Protocol));
            }

            if (enabled is null || errors.Count > 0)
            {
                return ApiError.Validation(errors);
            }

            var next = existing with { ContentCaching = enabled.Value };
            return Change(next, next);
        }, cancellationToken);
}

using Tether.Management.OpenApi.Schemas;

namespace Tether.Management.OpenApi;

/// <summary>The optional features of a load balancer, metadata and usage (see <see cref="RouteDocs"/>).</summary>
internal static partial class RouteDocs
{
    private const string Lb = "/loadbalancers/{id:int}";

    /// <summary>GET, PUT (with <paramref name="putStatus"/> and <paramref name="putResponse"/>) and optionally DELETE
    /// of one feature of a load balancer.</summary>
    private static IEnumerable<RouteDoc> Feature(string path, string tag, string what, Type envelope, int putStatus = 202,
        Type? putResponse = null, bool delete = true)
    {
        yield return Get(Lb + path, tag, "Show the " + what, envelope);
        yield return new("PUT", Lb + path, tag, "Set the " + what, putStatus, putResponse, envelope, [BadRequest, NotFound, Immutable]);
        if (delete)
        {
            yield return new("DELETE", Lb + path, tag, "Remove the " + what, putStatus, putResponse, null, [NotFound, Immutable]);
        }
    }

    private static IEnumerable<RouteDoc> FeatureRoutes()
    {
        foreach (var doc in Feature("/healthmonitor", "Health monitor", "health monitor", typeof(HealthMonitorEnvelope))
            .Concat(Feature("/connectionthrottle", "Access control", "connection throttle", typeof(ConnectionThrottleEnvelope)))
            .Concat(Feature("/errorpage", "Error page", "error page (DELETE restores the default)", typeof(ErrorPageEnvelope), 200, typeof(EmptyObject)))
            .Concat(Feature("/connectionlogging", "Logging and caching", "connection logging", typeof(ConnectionLoggingEnvelope), delete: false))
            .Concat(Feature("/contentcaching", "Logging and caching", "content caching (HTTP)", typeof(ContentCachingEnvelope), delete: false))
            .Concat(Feature("/ssltermination", "SSL termination", "SSL termination (the private key is never shown)", typeof(SslTerminationEnvelope), 200, typeof(EmptyObject))))
        {
            yield return doc;
        }

        const string Access = "Access control";
        yield return Get(Lb + "/accesslist", Access, "List the access list", typeof(AccessListBody), [BadRequest, NotFound], Page);
        yield return new("POST", Lb + "/accesslist", Access, "Append network items", 202, null, typeof(AccessListBody),
            [BadRequest, NotFound, TooLarge, Immutable]);
        yield return new("DELETE", Lb + "/accesslist", Access, "Remove the given items (?id=), or all", 202, null, null,
            [BadRequest, NotFound, Immutable], ["id"]);
        yield return new("DELETE", Lb + "/accesslist/{itemId:int}", Access, "Remove a network item", 202, null, null, [NotFound, Immutable]);

        const string Ssl = "SSL termination";
        const string Mappings = Lb + "/ssltermination/certificatemappings";
        yield return Get(Mappings, Ssl, "List the certificate mappings (SNI)", typeof(CertificateMappingList));
        yield return new("POST", Mappings, Ssl, "Add a certificate mapping", 202, typeof(CertificateMappingEnvelope),
            typeof(CertificateMappingEnvelope), [BadRequest, NotFound, TooLarge, Immutable]);
        yield return Get(Mappings + "/{mappingId:int}", Ssl, "Show a certificate mapping", typeof(CertificateMappingEnvelope));
        yield return new("PUT", Mappings + "/{mappingId:int}", Ssl, "Change a certificate mapping", 202, null,
            typeof(CertificateMappingEnvelope), [BadRequest, NotFound, Immutable]);
        yield return new("DELETE", Mappings + "/{mappingId:int}", Ssl, "Remove a certificate mapping", 202, null, null, [NotFound, Immutable]);

        foreach (var owner in (string[])[Lb, Lb + "/nodes/{nodeId:int}"])
        {
            var tag = "Metadata";
            var of = owner == Lb ? " of the load balancer" : " of a node";
            yield return Get(owner + "/metadata", tag, "List the metadata" + of, typeof(MetadataList));
            yield return new("POST", owner + "/metadata", tag, "Add metadata items" + of, 200, typeof(MetadataList), typeof(MetadataList),
                [BadRequest, NotFound, TooLarge, Immutable]);
            yield return new("DELETE", owner + "/metadata", tag, "Remove several metadata items" + of + " (all or nothing)", 200, null, null,
                [BadRequest, NotFound, Immutable], ["id"]);
            yield return Get(owner + "/metadata/{metaId:int}", tag, "Show a metadata item" + of, typeof(MetaEnvelope));
            yield return new("PUT", owner + "/metadata/{metaId:int}", tag, "Change a metadata item's value" + of, 200, null, typeof(MetaEnvelope),
                [BadRequest, NotFound, Immutable]);
            yield return new("DELETE", owner + "/metadata/{metaId:int}", tag, "Remove a metadata item" + of, 200, null, null, [NotFound, Immutable]);
        }
    }

    private static IEnumerable<RouteDoc> PersistenceRoutes()
    {
        const string Tag = "Session persistence";
        const string Path = Lb + "/sessionpersistence";
        yield return Get(Path, Tag, "Show session persistence ({} when disabled)", typeof(SessionPersistenceEnvelope));
        yield return new("PUT", Path, Tag, "Enable or replace session persistence", 202, null, typeof(SessionPersistenceEnvelope),
            [BadRequest, NotFound, Immutable]);
        yield return new("DELETE", Path, Tag, "Disable session persistence", 202, null, null, [NotFound, Immutable]);
        yield return Get(Path + "/sessions", Tag, "List the persisted sessions", typeof(SessionList), [BadRequest, NotFound],
            ["nodeId", "limit", "marker"]);
        yield return new("DELETE", Path + "/sessions", Tag, "Unpin every client of a node", 202, null, null, [BadRequest, NotFound], ["nodeId"]);
        yield return Get(Path + "/lookup", Tag, "Which node a client would reach, and why", typeof(SessionLookupEnvelope),
            [BadRequest, NotFound], ["address", "cookie", "header"]);
        yield return new("POST", Path + "/sessions/move", Tag, "Move persisted sessions from one node to another", 200,
            typeof(SessionMoveResult), typeof(SessionMoveRequest), [BadRequest, NotFound, Immutable]);
    }

    private static IEnumerable<RouteDoc> ReportRoutes()
    {
        const string Usage = "Usage and statistics";
        yield return Get(Lb + "/stats", Usage, "Show connection statistics and persistence outcomes", typeof(LoadBalancerStats));
        yield return Get(Lb + "/usage/current", Usage, "List the usage records of the last 24 hours", typeof(UsageRecordList),
            [BadRequest, NotFound], ["offset", "limit"]);
        yield return Get(Lb + "/usage", Usage, "List the usage records of a range", typeof(UsageRecordList),
            [BadRequest, NotFound], ["startTime", "endTime", "offset", "limit"]);
        yield return Get("/loadbalancers/usage", Usage, "Show the account's usage", typeof(AccountUsageReport), [BadRequest],
            ["startTime", "endTime"]);
        yield return Get("/loadbalancers/billable", Usage, "List the load balancers with usage in a range", typeof(BillableList),
            [BadRequest], ["startTime", "endTime", "offset", "limit"]);
        yield return Get("/audit", "Audit", "List the account's configuration changes, newest first", typeof(AuditEntryList),
            [BadRequest], ["limit", "marker"]);

        // Outside /v1.0: no token, no rate limit.
        const string Operations = "Operations";
        yield return new("GET", "/healthz", Operations, "Readiness (no token)", 200, typeof(Readiness), Errors: [503],
            ErrorBody: typeof(Readiness));
        yield return new("GET", "/metrics", Operations, "Prometheus metrics, text format (token only with Management:MetricsRequireToken)",
            200, typeof(string), Errors: [401]);
    }
}

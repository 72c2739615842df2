using Tether.Management.OpenApi.Schemas;

namespace Tether.Management.OpenApi;

/// <summary>
/// The API description of every route of the management API (issue 15 item 3; docs/api.md "API description and
/// explorer"): the endpoints read and write JSON by hand (<c>Api/FieldReader.cs</c>, <c>Endpoints/Representations.cs</c>),
/// so their bodies are described by the types of <c>OpenApi/Schemas</c>, attached here as endpoint metadata. The
/// contract test (<c>OpenApiContractTests</c>) fails when a mapped route has no entry or a real answer does not match.
/// </summary>
internal static partial class RouteDocs
{
    private const int BadRequest = 400;
    private const int NotFound = 404;
    private const int TooLarge = 413;
    private const int Immutable = 422;

    private static readonly string[] Page = ["limit", "marker", "offset"];

    /// <summary>Every documented route, by <c>METHOD path</c>.</summary>
    public static readonly IReadOnlyDictionary<string, RouteDoc> All =
        LoadBalancerRoutes().Concat(NodeRoutes()).Concat(FeatureRoutes()).Concat(PersistenceRoutes()).Concat(ReportRoutes())
            .ToDictionary(d => Key(d.Method, d.Path), StringComparer.Ordinal);

    /// <summary>The key of <see cref="All"/>.</summary>
    public static string Key(string method, string path) => method + " " + path;

    private static RouteDoc Get(string path, string tag, string summary, Type response, int[]? errors = null, string[]? query = null) =>
        new("GET", path, tag, summary, 200, response, null, errors ?? [NotFound], query);

    private static IEnumerable<RouteDoc> LoadBalancerRoutes()
    {
        const string Tag = "Load balancers";
        const string Lb = "/loadbalancers/{id:int}";
        yield return Get("/loadbalancers", Tag, "List the account's load balancers", typeof(LoadBalancerList), [BadRequest],
            [.. Page, "status", "changes-since", "nodeaddress"]);
        yield return new("POST", "/loadbalancers", Tag, "Create a load balancer", 202, typeof(LoadBalancerEnvelope),
            typeof(LoadBalancerRequestEnvelope), [BadRequest, TooLarge, Immutable]);
        yield return new("DELETE", "/loadbalancers", Tag, "Delete several load balancers (all or nothing)", 202, null, null,
            [BadRequest, NotFound, Immutable], ["id"]);
        yield return Get(Lb, Tag, "Show a load balancer", typeof(LoadBalancerEnvelope));
        yield return new("PUT", Lb, Tag, "Change a load balancer's attributes", 202, null, typeof(LoadBalancerRequestEnvelope),
            [BadRequest, NotFound, Immutable]);
        yield return new("DELETE", Lb, Tag, "Delete a load balancer", 202, null, null, [NotFound, Immutable]);

        const string Vip = "Virtual IPs";
        yield return Get(Lb + "/virtualips", Vip, "List a load balancer's virtual IPs", typeof(VirtualIpList), [BadRequest, NotFound], Page);
        yield return new("POST", Lb + "/virtualips", Vip, "Add an IPv6 virtual IP", 202, typeof(VirtualIp), typeof(VirtualIpRequest),
            [BadRequest, NotFound, TooLarge, Immutable]);
        yield return new("DELETE", Lb + "/virtualips/{vipId:int}", Vip, "Remove a virtual IP", 202, null, null,
            [BadRequest, NotFound, Immutable]);
        yield return new("DELETE", Lb + "/virtualips", Vip, "Remove several virtual IPs (all or nothing)", 202, null, null,
            [BadRequest, NotFound, Immutable], ["id"]);

        const string Catalog = "Catalogs and limits";
        yield return Get("/loadbalancers/protocols", Catalog, "List the protocols and their default ports", typeof(ProtocolList), []);
        yield return Get("/loadbalancers/algorithms", Catalog, "List the algorithms", typeof(AlgorithmList), []);
        yield return Get("/loadbalancers/absolutelimits", Catalog, "List the absolute limits", typeof(AbsoluteLimitList), []);
        yield return Get("/loadbalancers/alloweddomains", Catalog, "List the domains node host names may be in", typeof(AllowedDomainList), []);
        yield return Get("/limits", Catalog, "Show the account's rate and absolute limits", typeof(LimitsEnvelope), []);
    }

    private static IEnumerable<RouteDoc> NodeRoutes()
    {
        const string Tag = "Nodes";
        const string Nodes = "/loadbalancers/{id:int}/nodes";
        const string Node = Nodes + "/{nodeId:int}";
        yield return Get(Nodes, Tag, "List a load balancer's nodes (with live status and drain progress)", typeof(NodeList),
            [BadRequest, NotFound], Page);
        yield return new("POST", Nodes, Tag, "Add nodes", 202, typeof(NodeList), typeof(NodeListRequest),
            [BadRequest, NotFound, TooLarge, Immutable]);
        yield return new("DELETE", Nodes, Tag, "Remove several nodes (all or nothing)", 202, null, null,
            [BadRequest, NotFound, Immutable], ["id"]);
        yield return Get(Node, Tag, "Show a node", typeof(NodeEnvelope));
        yield return new("PUT", Node, Tag, "Change a node's condition, type or weight", 202, null, typeof(NodeUpdateEnvelope),
            [BadRequest, NotFound, Immutable]);
        yield return new("DELETE", Node, Tag, "Remove a node", 202, null, null, [BadRequest, NotFound, Immutable]);
        yield return Get(Nodes + "/events", Tag, "List the node status changes", typeof(NodeServiceEventList));
        yield return Get(Node + "/events", Tag, "List one node's status changes", typeof(NodeServiceEventList));
    }
}

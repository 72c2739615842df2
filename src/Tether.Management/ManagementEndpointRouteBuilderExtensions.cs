using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tether.Management.Auth;
using Tether.Management.Endpoints;
using Tether.Management.OpenApi;

namespace Tether.Management;

/// <summary>Maps the management API (composition entry point for the executable).</summary>
public static class ManagementEndpointRouteBuilderExtensions
{
    /// <summary>The route prefix of every API path: <c>/v1.0/{account}</c> (docs/api.md).</summary>
    public const string RoutePrefix = "/v1.0/{account:int}";

    /// <summary>
    /// Maps every endpoint of the API under <c>/v1.0/{account}</c> (load balancers, nodes, session persistence,
    /// protocols, algorithms, absolute limits, rate limits, allowed domains), each behind the <c>X-Auth-Token</c> check,
    /// the role check and the rate limits (<see cref="ApiFilter"/>); when <paramref name="endpoints"/> is also the
    /// application (a <c>WebApplication</c>), calls under <c>/v1.0/</c> that no endpoint serves answer 404 or 405 with
    /// the Rackspace error body after the token check. On first start, when no
    /// token is configured and none is stored, creates the admin token file (see <see cref="ManagementOptions"/>). Also
    /// maps <c>GET /healthz</c> (readiness, no token: <see cref="Health.IReadinessCheck"/>), and the API description
    /// <c>GET /openapi/v1.json</c> and explorer <c>GET /explorer</c> (no token; <see cref="OpenApi.ApiDescriptionExtensions"/>).
    /// Needs <see cref="ManagementServiceCollectionExtensions.AddTetherManagement"/> and an <c>IDataPlane</c> in DI.
    /// </summary>
    /// <param name="endpoints">The application (a <c>WebApplication</c>) or another route builder.</param>
    /// <returns>The route group, for further conventions.</returns>
    public static RouteGroupBuilder MapTetherManagementApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.ServiceProvider.GetRequiredService<TokenAuthenticator>().EnsureAdminToken();

        // Outside /v1.0/: no token, no rate limit (keepalived and upstream health checks).
        Health.HealthzEndpoint.Map(endpoints);
        var filter = endpoints.ServiceProvider.GetRequiredService<ApiFilter>();
        var group = endpoints.MapGroup(RoutePrefix);
        group.AddEndpointFilter(filter);
        // The API description of every route (OpenApi/RouteDocs.cs), /openapi/v1.json and /explorer (no token).
        group.WithRouteDocs();
        OpenApi.ApiDescriptionExtensions.MapTetherApiDescription(endpoints);

        var service = endpoints.ServiceProvider.GetRequiredService<LoadBalancerService>();
        CatalogEndpoints.Map(group);
        var options = endpoints.ServiceProvider.GetRequiredService<ManagementOptions>();
        LimitsEndpoints.Map(group, options, endpoints.ServiceProvider.GetRequiredService<ApiRateLimiter>());
        if (endpoints is IApplicationBuilder app)
        {
            // 404 and 405 under /v1.0/ with the Rackspace error body (after the token check), not an empty body.
            Api.UnmatchedRoutes.Use(app, filter, MetricsEndpointExtensions.MetricsPort(options));
        }

        LoadBalancerEndpoints.Map(group, service);
        NodeEndpoints.Map(group, service);
        SessionPersistenceEndpoints.Map(group, service);
        SslTerminationEndpoints.Map(group, service);
        CertificateMappingEndpoints.Map(group, service);
        HealthMonitorEndpoints.Map(group, service);
        AccessControlEndpoints.Map(group, service);
        MetadataEndpoints.Map(group, service);
        AuditEndpoints.Map(group, endpoints.ServiceProvider.GetRequiredService<Storage.TetherStore>());
        UsageEndpoints.Map(group, service, endpoints.ServiceProvider.GetRequiredService<Storage.TetherStore>(),
            endpoints.ServiceProvider.GetRequiredService<TimeProvider>());
        var runtimes = endpoints.ServiceProvider.GetService<Tether.Core.IRuntimeRegistry>();
        if (runtimes is not null)
        {
            PersistenceInsightEndpoints.Map(group, service, runtimes, endpoints.ServiceProvider.GetRequiredService<ManagementOptions>());
            SessionMoveEndpoints.Map(group, service, runtimes);
            StatsEndpoints.Map(group, service, runtimes);
        }

        return group;
    }
}

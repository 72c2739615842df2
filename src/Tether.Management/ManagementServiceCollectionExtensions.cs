using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Tether.Core;
using Tether.Management.Auth;
using Tether.Management.Storage;

namespace Tether.Management;

/// <summary>Registers the management API's services (composition entry point for the executable).</summary>
public static class ManagementServiceCollectionExtensions
{
    /// <summary>
    /// Registers, as singletons: <paramref name="options"/>, the <see cref="TetherStore"/> (opened on first use in
    /// <see cref="ManagementOptions.DataDirectory"/>), the <see cref="LoadBalancerService"/> (which loads every stored
    /// load balancer when it is created), the token authenticator and routing; and <see cref="TimeProvider.System"/>
    /// unless a <see cref="TimeProvider"/> is already registered; and the <see cref="Usage.UsageRecorder"/> as a hosted
    /// service (it reads the live counters through <see cref="IRuntimeRegistry"/> when one is registered); and the
    /// readiness checks of <c>GET /healthz</c> (<see cref="Health.IReadinessCheck"/>: data plane restored and not
    /// stopping, store readable). The caller must register an <see cref="IDataPlane"/>.
    /// Then call <see cref="ManagementEndpointRouteBuilderExtensions.MapTetherManagementApi"/> and, before serving,
    /// <see cref="LoadBalancerService.RestoreAllAsync"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="options">The settings; <see cref="ManagementOptions.DataDirectory"/> is required, the addresses
    /// must be IPv4 literals, each configured token non-empty with a positive account and a known role (or none), the
    /// rate limits and the allowed domains valid.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentException">An invalid <paramref name="options"/> value (the message names it).</exception>
    public static IServiceCollection AddTetherManagement(this IServiceCollection services, ManagementOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);

        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        // /openapi/v1.json (OpenApi/ApiDescriptionExtensions.cs).
        OpenApi.ApiDescriptionExtensions.AddTetherApiDescription(services);
        services.AddSingleton(sp => TetherStore.Open(options.DataDirectory, sp.GetRequiredService<TimeProvider>()));
        // Where the configuration is authoritative: the SQLite store, unless cluster mode registered its own first.
        services.TryAddSingleton<IConfigurationStore>(sp => sp.GetRequiredService<TetherStore>());
        services.AddSingleton(sp => new TokenAuthenticator(options, sp.GetRequiredService<IConfigurationStore>(),
            sp.GetRequiredService<TetherStore>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<TokenAuthenticator>>()));
        services.AddSingleton(sp => new ApiRateLimiter(options.RateLimits, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new ApiFilter(sp.GetRequiredService<TokenAuthenticator>(),
            sp.GetRequiredService<ApiRateLimiter>(), sp.GetRequiredService<ILogger<ApiFilter>>()));
        services.AddSingleton(sp => new LoadBalancerService(sp.GetRequiredService<IConfigurationStore>(),
            sp.GetRequiredService<TetherStore>(), sp.GetRequiredService<IDataPlane>(), sp.GetRequiredService<TimeProvider>(), options,
            sp.GetRequiredService<ILogger<LoadBalancerService>>()));
        services.AddSingleton(sp => new Usage.UsageRecorder(sp.GetRequiredService<TetherStore>(),
            sp.GetRequiredService<LoadBalancerService>(), sp.GetService<IRuntimeRegistry>(), sp.GetRequiredService<TimeProvider>(),
            options, sp.GetRequiredService<ILogger<Usage.UsageRecorder>>()));
        services.AddHostedService(sp => sp.GetRequiredService<Usage.UsageRecorder>());
        // GET /healthz asks every IReadinessCheck (cluster mode adds its own).
        services.AddSingleton<Health.IReadinessCheck>(sp => new Health.DataPlaneReadiness(sp.GetRequiredService<LoadBalancerService>(),
            sp.GetService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>()));
        services.AddSingleton<Health.IReadinessCheck>(sp => new Health.StoreReadiness(sp.GetRequiredService<TetherStore>()));
        services.AddRouting();
        return services;
    }

    private static void Validate(ManagementOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            throw new ArgumentException("ManagementOptions.DataDirectory is required.", nameof(options));
        }

        foreach (var (name, value) in new[] { ("PublicAddress", options.PublicAddress), ("PrivateAddress", options.PrivateAddress) })
        {
            if (!IPAddress.TryParse(value, out var address) || address.AddressFamily != AddressFamily.InterNetwork
                || value.Split('.').Length != 4)
            {
                throw new ArgumentException($"ManagementOptions.{name} must be an IPv4 address literal (got '{value}').", nameof(options));
            }
        }

        if (!IPAddress.TryParse(options.PublicAddressV6, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6
            || v6.IsIPv4MappedToIPv6)
        {
            throw new ArgumentException($"ManagementOptions.PublicAddressV6 must be an IPv6 address literal, such as :: or ::1 (got '{options.PublicAddressV6}').", nameof(options));
        }

        // Canonical text (::1, not 0:0:0:0:0:0:0:1): listener conflicts compare addresses as text.
        options.PublicAddressV6 = v6.ToString();

        foreach (var token in options.Tokens)
        {
            if (string.IsNullOrEmpty(token.Token) || token.AccountId < 1)
            {
                throw new ArgumentException("Each of ManagementOptions.Tokens needs a non-empty Token and a positive AccountId.", nameof(options));
            }

            if (!string.IsNullOrWhiteSpace(token.Role) && !TokenRoles.TryParse(token.Role, out _))
            {
                throw new ArgumentException($"ManagementOptions.Tokens: the role \"{token.Role}\" is not observer, creator or admin.", nameof(options));
            }
        }

        if (RateLimitRules.Parse(options.RateLimits, out _) is { } rateError)
        {
            throw new ArgumentException($"ManagementOptions.RateLimits: {rateError}.", nameof(options));
        }

        foreach (var domain in options.AllowedDomains)
        {
            if (AllowedDomainNames.Check(domain) is { } domainError)
            {
                throw new ArgumentException($"ManagementOptions.AllowedDomains: {domainError}.", nameof(options));
            }
        }

        foreach (var (name, value, family) in new[]
        {
            ("Ipv4Public", options.SourceAddresses.Ipv4Public, AddressFamily.InterNetwork),
            ("Ipv4Servicenet", options.SourceAddresses.Ipv4Servicenet, AddressFamily.InterNetwork),
            ("Ipv6Public", options.SourceAddresses.Ipv6Public, AddressFamily.InterNetworkV6),
        })
        {
            if (!string.IsNullOrEmpty(value) && (!IPAddress.TryParse(value, out var source) || source.AddressFamily != family))
            {
                throw new ArgumentException($"ManagementOptions.SourceAddresses.{name} must be an {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address literal (got '{value}').", nameof(options));
            }
        }

        if (MetricsEndpointExtensions.ValidateMetricsUrl(options) is { } metricsUrlError)
        {
            throw new ArgumentException(metricsUrlError, nameof(options));
        }

        if (options.UsagePollSeconds is < 1 or > 3600)
        {
            throw new ArgumentException($"ManagementOptions.UsagePollSeconds must be from 1 to 3600 seconds (got {options.UsagePollSeconds}).", nameof(options));
        }

        if (options.UsageRetentionDays is < 1 or > 3650)
        {
            throw new ArgumentException($"ManagementOptions.UsageRetentionDays must be from 1 to 3650 days (got {options.UsageRetentionDays}).", nameof(options));
        }

        var duplicate = options.Tokens.GroupBy(t => t.Token, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException("A token appears twice in ManagementOptions.Tokens.", nameof(options));
        }
    }
}

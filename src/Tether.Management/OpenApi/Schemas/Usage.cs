namespace Tether.Management.OpenApi.Schemas;

/// <summary>An hourly usage record (Rackspace v1.0 "Usage reports"; transfers in bytes, times ISO 8601 UTC).</summary>
internal sealed class UsageRecord
{
    /// <summary>The record's id.</summary>
    public required long Id { get; init; }

    /// <summary>Average concurrent connections over the polls.</summary>
    public required double AverageNumConnections { get; init; }

    /// <summary>Bytes in.</summary>
    public required long IncomingTransfer { get; init; }

    /// <summary>Bytes out.</summary>
    public required long OutgoingTransfer { get; init; }

    /// <summary>As <c>averageNumConnections</c>, TLS listener.</summary>
    public required double AverageNumConnectionsSsl { get; init; }

    /// <summary>Bytes in, TLS listener.</summary>
    public required long IncomingTransferSsl { get; init; }

    /// <summary>Bytes out, TLS listener.</summary>
    public required long OutgoingTransferSsl { get; init; }

    /// <summary>Virtual IPs.</summary>
    public required int NumVips { get; init; }

    /// <summary>Polls in the record.</summary>
    public required int NumPolls { get; init; }

    /// <summary>Start, ISO 8601 UTC.</summary>
    public required string StartTime { get; init; }

    /// <summary>End, ISO 8601 UTC.</summary>
    public required string EndTime { get; init; }

    /// <summary><c>PUBLIC</c>, <c>SERVICENET</c> or <c>IPV6</c>.</summary>
    public required string VipType { get; init; }

    /// <summary><c>OFF</c>, <c>ON</c> or <c>MIXED</c>.</summary>
    public required string SslMode { get; init; }

    /// <summary>The event that started the record, when one did (<c>CREATE_LOADBALANCER</c>...).</summary>
    public string? EventType { get; init; }
}

/// <summary><c>{"loadBalancerUsageRecords":[...],"links":[...]}</c>.</summary>
internal sealed class UsageRecordList
{
    /// <summary>A page of records.</summary>
    public required IReadOnlyList<UsageRecord> LoadBalancerUsageRecords { get; init; }

    /// <summary>The next and previous pages (may be empty).</summary>
    public required IReadOnlyList<Link> Links { get; init; }
}

/// <summary><c>GET /loadbalancers/usage</c>: the account's usage.</summary>
internal sealed class AccountUsageReport
{
    /// <summary>The account records.</summary>
    public required AccountUsage AccountUsage { get; init; }

    /// <summary>Each load balancer's records.</summary>
    public required IReadOnlyList<LoadBalancerUsage> LoadBalancerUsages { get; init; }

    /// <summary>The account.</summary>
    public required int AccountId { get; init; }
}

/// <summary><c>{"accountUsageRecords":[...],"links":[]}</c>.</summary>
internal sealed class AccountUsage
{
    /// <summary>The counts at the start of the range and where they change.</summary>
    public required IReadOnlyList<AccountUsageRecord> AccountUsageRecords { get; init; }

    /// <summary>Always empty.</summary>
    public required IReadOnlyList<Link> Links { get; init; }
}

/// <summary>The account's counts from <c>startTime</c>.</summary>
internal sealed class AccountUsageRecord
{
    /// <summary>Load balancers with usage.</summary>
    public required int NumLoadBalancers { get; init; }

    /// <summary>Public virtual IPs.</summary>
    public required int NumPublicVips { get; init; }

    /// <summary>ServiceNet virtual IPs.</summary>
    public required int NumServicenetVips { get; init; }

    /// <summary>From when, ISO 8601 UTC.</summary>
    public required string StartTime { get; init; }
}

/// <summary>One load balancer's records in the account report.</summary>
internal sealed class LoadBalancerUsage
{
    /// <summary>The load balancer.</summary>
    public required int LoadBalancerId { get; init; }

    /// <summary>Its name.</summary>
    public required string LoadBalancerName { get; init; }

    /// <summary>Its records.</summary>
    public required IReadOnlyList<UsageRecord> LoadBalancerUsageRecords { get; init; }

    /// <summary>Always empty.</summary>
    public required IReadOnlyList<Link> Links { get; init; }
}

/// <summary><c>GET /loadbalancers/billable</c>: <c>{"loadBalancers":[...],"links":[...]}</c>.</summary>
internal sealed class BillableList
{
    /// <summary>Load balancers with usage in the range, deleted ones included.</summary>
    public required IReadOnlyList<BillableLoadBalancer> LoadBalancers { get; init; }

    /// <summary>The next and previous pages (may be empty).</summary>
    public required IReadOnlyList<Link> Links { get; init; }
}

/// <summary>A billable load balancer: <c>{id,name,protocol,port,algorithm,timeout,status,nodeCount,created,updated}</c>.</summary>
internal sealed class BillableLoadBalancer
{
    /// <summary>Its id.</summary>
    public required int Id { get; init; }

    /// <summary>Its name.</summary>
    public required string Name { get; init; }

    /// <summary>Its protocol.</summary>
    public required string Protocol { get; init; }

    /// <summary>Its port.</summary>
    public required int Port { get; init; }

    /// <summary>Its algorithm.</summary>
    public required string Algorithm { get; init; }

    /// <summary>Its timeout, seconds.</summary>
    public required int Timeout { get; init; }

    /// <summary>Its status (<c>DELETED</c> once deleted).</summary>
    public required string Status { get; init; }

    /// <summary>Its node count.</summary>
    public required int NodeCount { get; init; }

    /// <summary>When it was created.</summary>
    public required TimeStamp Created { get; init; }

    /// <summary>When it last changed.</summary>
    public required TimeStamp Updated { get; init; }
}

using Tether.Management.Api;

namespace Tether.Management.Tests.Endpoints;

/// <summary>The all-or-nothing rule of every bulk delete (<see cref="BulkIds"/>); the endpoints' own tests check it
/// per resource (nodes, virtual IPs, metadata, access list, load balancers).</summary>
public sealed class BulkIdsTests
{
    [Fact]
    public void Check_AllPresent_IsNull()
    {
        Assert.Null(BulkIds.Check([1, 2], id => id < 3, ApiError.NodeNotFound));
    }

    [Fact]
    public void Check_OneOfOneMissing_IsTheResourcesPlain404()
    {
        Assert.Equal(ApiError.NodeNotFound, BulkIds.Check([7], _ => false, ApiError.NodeNotFound));
    }

    [Fact]
    public void Check_SomeOfSeveralMissing_Is404NamingTheMissingOnes()
    {
        var error = BulkIds.Check([1, 3, 7], id => id == 1, new ApiError(404, "Virtual IP not found"), "Not on load balancer 5");

        Assert.Equal(404, error!.Code);
        Assert.Equal("Virtual IP not found", error.Message);
        Assert.Equal("Not on load balancer 5: 3, 7; nothing was deleted.", error.Details);
    }
}

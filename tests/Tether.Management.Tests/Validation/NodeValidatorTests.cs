using Tether.Core.Model;
using Tether.Management.Validation;
using static Tether.Management.Tests.Validation.ValidationKit;

namespace Tether.Management.Tests.Validation;

/// <summary>The node rules (NodeValidator; Rackspace v1.0 nodes).</summary>
public sealed class NodeValidatorTests
{
    [Fact]
    public void ValidateNew_AddressAndPortOnly_GetsTheDefaults()
    {
        var errors = new List<string>();

        var nodes = NodeValidator.ValidateNew([Node("""{"address":"10.0.0.5","port":8080}""")], [], errors, "nodes");

        Assert.Empty(errors);
        var node = Assert.Single(nodes!);
        Assert.Equal((NodeCondition.Enabled, NodeType.Primary, 1, 0), (node.Condition, node.Type, node.Weight, node.Id));
    }

    [Fact]
    public void ValidateNew_Ipv6Literal_IsCanonical()
    {
        var errors = new List<string>();

        var nodes = NodeValidator.ValidateNew([Node("""{"address":"2001:DB8:0:0::1","port":80}""")], [], errors, "nodes");

        Assert.Empty(errors);
        Assert.Equal("2001:db8::1", Assert.Single(nodes!).Address);
    }

    [Theory]
    [InlineData("""{"port":80}""", "nodes[0].address: ")]
    [InlineData("""{"address":"1","port":80}""", "nodes[0].address: ")]
    [InlineData("""{"address":"example.com","port":80}""", "nodes[0].address: ")]
    [InlineData("""{"address":"10.0.0.1"}""", "nodes[0].port: ")]
    [InlineData("""{"address":"10.0.0.1","port":65536}""", "nodes[0].port: must be from 1 to 65535")]
    [InlineData("""{"address":"10.0.0.1","port":80,"condition":"OFF"}""", "nodes[0].condition: ")]
    [InlineData("""{"address":"10.0.0.1","port":80,"type":"BACKUP"}""", "nodes[0].type: ")]
    [InlineData("""{"address":"10.0.0.1","port":80,"weight":0}""", "nodes[0].weight: ")]
    [InlineData("""{"address":"10.0.0.1","port":80,"weight":101}""", "nodes[0].weight: ")]
    public void ValidateNew_RuleBroken_IsRefusedWithTheField(string json, string expected)
    {
        var errors = new List<string>();

        Assert.Null(NodeValidator.ValidateNew([Node(json)], [], errors, "nodes"));
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateNew_Empty_NeedsOneNode()
    {
        var errors = new List<string>();

        Assert.Null(NodeValidator.ValidateNew([], [], errors, "nodes"));
        Assert.Contains("nodes: at least one node is required", errors);
    }

    [Fact]
    public void ValidateNew_SameAddressAndPortAsAnExistingNode_IsADuplicate()
    {
        var errors = new List<string>();
        var existing = new NodeConfig { Id = 1, Address = "10.0.0.1", Port = 80 };

        Assert.Null(NodeValidator.ValidateNew([Node("""{"address":"10.0.0.1","port":80}""")], [existing], errors, "nodes"));
        Assert.Contains(errors, e => e.StartsWith("nodes[0]: duplicate node", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateNew_TwoEqualNodesInOneBody_IsADuplicate()
    {
        var errors = new List<string>();

        var nodes = NodeValidator.ValidateNew(
            [Node("""{"address":"10.0.0.1","port":80}"""), Node("""{"address":"10.0.0.1","port":80}""", "nodes[1]")], [], errors, "nodes");

        Assert.Null(nodes);
        Assert.Contains(errors, e => e.StartsWith("nodes[1]: duplicate node", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateUpdate_Condition_ChangesOnlyIt()
    {
        var errors = new List<string>();
        var existing = new NodeConfig { Id = 1, Address = "10.0.0.1", Port = 80, Weight = 7 };

        var updated = NodeValidator.ValidateUpdate(Node("""{"condition":"DRAINING"}""", ""), existing, errors);

        Assert.Empty(errors);
        Assert.Equal((NodeCondition.Draining, existing.Type, 7, "10.0.0.1", 80), (updated!.Condition, updated.Type, updated.Weight, updated.Address, updated.Port));
    }

    [Theory]
    [InlineData("""{"address":"10.0.0.2"}""", "address")]
    [InlineData("""{"port":81}""", "port")]
    public void ValidateUpdate_ImmutableField_IsRefused(string json, string field)
    {
        var errors = new List<string>();
        var existing = new NodeConfig { Id = 1, Address = "10.0.0.1", Port = 80 };

        Assert.Null(NodeValidator.ValidateUpdate(Node(json, ""), existing, errors));
        Assert.Contains(errors, e => e.StartsWith(field + ": ", StringComparison.Ordinal));
    }
}

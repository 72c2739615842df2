using Tether.Core.Model;
using Tether.Management.Validation;
using static Tether.Management.Tests.Validation.ValidationKit;

namespace Tether.Management.Tests.Validation;

/// <summary>The metadata rules (MetadataValidator; Rackspace v1.0 "Metadata").</summary>
public sealed class MetadataValidatorTests
{
    [Fact]
    public void ValidateNew_TwoItems_AreKeptInOrder()
    {
        var errors = new List<string>();

        var items = MetadataValidator.ValidateNew(
            [Meta("""{"key":"a","value":"1"}""", "metadata[0]"), Meta("""{"key":"b","value":"2"}""", "metadata[1]")], [], errors, "metadata", requireOne: true);

        Assert.Empty(errors);
        Assert.Equal(["a", "b"], items!.Select(i => i.Key));
    }

    [Fact]
    public void ValidateNew_KeyHeldAlready_IsRefused()
    {
        var errors = new List<string>();

        Assert.Null(MetadataValidator.ValidateNew([Meta("""{"key":"a","value":"1"}""", "metadata[0]")], [new MetadataItem(5, "a", "x")], errors, "metadata", requireOne: true));
        Assert.Contains(errors, e => e.StartsWith("metadata[0].key: an item with key 'a' already exists (id 5)", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateNew_SameKeyTwiceInOneBody_IsRefused()
    {
        var errors = new List<string>();

        Assert.Null(MetadataValidator.ValidateNew(
            [Meta("""{"key":"a","value":"1"}""", "metadata[0]"), Meta("""{"key":"a","value":"2"}""", "metadata[1]")], [], errors, "metadata", requireOne: true));
        Assert.Contains(errors, e => e.StartsWith("metadata[1].key: duplicate key 'a'", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateNew_KeysDifferingInCase_AreDistinct()
    {
        var errors = new List<string>();

        var items = MetadataValidator.ValidateNew(
            [Meta("""{"key":"a","value":"1"}""", "metadata[0]"), Meta("""{"key":"A","value":"2"}""", "metadata[1]")], [], errors, "metadata", requireOne: true);

        Assert.Empty(errors);
        Assert.Equal(2, items!.Count);
    }

    [Theory]
    [InlineData("""{"value":"1"}""", "metadata[0].key: is required")]
    [InlineData("""{"key":"a"}""", "metadata[0].value: is required")]
    [InlineData("""{"key":"","value":"1"}""", "metadata[0].key: must be 1 to 256 characters")]
    public void ValidateNew_RuleBroken_IsRefusedWithTheField(string json, string expected)
    {
        var errors = new List<string>();

        Assert.Null(MetadataValidator.ValidateNew([Meta(json, "metadata[0]")], [], errors, "metadata", requireOne: true));
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateNew_ValueOf257Characters_IsTooLong()
    {
        var errors = new List<string>();
        var json = $$"""{"key":"a","value":"{{new string('v', 257)}}"}""";

        Assert.Null(MetadataValidator.ValidateNew([Meta(json, "metadata[0]")], [], errors, "metadata", requireOne: true));
        Assert.Contains(errors, e => e.StartsWith("metadata[0].value: must be 1 to 256 characters (got 257)", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateNew_NoItemWhenOneIsRequired_IsRefused()
    {
        var errors = new List<string>();

        Assert.Null(MetadataValidator.ValidateNew([], [], errors, "metadata", requireOne: true));
        Assert.Contains(errors, e => e.StartsWith("metadata: give at least one item", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateUpdate_KeyInTheBody_IsImmutable()
    {
        var errors = new List<string>();

        Assert.Null(MetadataValidator.ValidateUpdate(Reader("""{"key":"b","value":"2"}""", "meta"), errors));
        Assert.Contains(errors, e => e.StartsWith("meta.key: is immutable", StringComparison.Ordinal));
    }
}

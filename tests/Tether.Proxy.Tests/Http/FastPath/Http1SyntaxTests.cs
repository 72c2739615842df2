using System.Text;
using Tether.Proxy.Http.FastPath;

namespace Tether.Proxy.Tests.Http.FastPath;

/// <summary><see cref="Http1Syntax"/>: field names the fast path knows, Content-Length values, list elements.</summary>
public sealed class Http1SyntaxTests
{
    [Theory]
    [InlineData("Host", "Host")]
    [InlineData("Content-Length", "ContentLength")]
    [InlineData("Transfer-Encoding", "TransferEncoding")]
    [InlineData("Connection", "Connection")]
    [InlineData("Keep-Alive", "KeepAlive")]
    [InlineData("Proxy-Connection", "ProxyConnection")]
    [InlineData("TE", "TE")]
    [InlineData("Upgrade", "Upgrade")]
    [InlineData("Expect", "Expect")]
    [InlineData("Cookie", "Cookie")]
    [InlineData("Set-Cookie", "SetCookie")]
    [InlineData("X-Forwarded-For", "ForwardedFor")]
    [InlineData("X-Forwarded-Proto", "ForwardedProto")]
    [InlineData("X-Forwarded-Port", "ForwardedPort")]
    public void KindOf_KnownNameInAnyCase_ReturnsItsKind(string name, string kind)
    {
        var expected = Enum.Parse<FieldKind>(kind);
        string[] spellings = [name, name.ToLowerInvariant(), name.ToUpperInvariant(), AlternateCase(name), AlternateCase(name.ToUpperInvariant(), upperFirst: false)];

        var kinds = spellings.Select(s => (s, Http1Syntax.KindOf(Bytes(s)))).ToList();

        Assert.All(kinds, k => Assert.True(k.Item2 == expected, $"{k.s}: {k.Item2}"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Hosts")]
    [InlineData("Hos")]
    [InlineData("Content-Type")]
    [InlineData("Content-Lengths")]
    [InlineData("X-Forwarded-Host")]
    [InlineData("Cookie2")]
    [InlineData("Set-Cookie2")]
    [InlineData("Connectio\u00ee")]
    [InlineData("Te ")]
    [InlineData("Hos\u0014")] // 'T' ^ 0x40: must not match by case folding of non-letters
    [InlineData("Keep_Alive")]
    public void KindOf_OtherName_ReturnsOther(string name)
    {
        Assert.Equal(FieldKind.Other, Http1Syntax.KindOf(Bytes(name)));
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("5", 5)]
    [InlineData("000", 0)]
    [InlineData("1234567890", 1_234_567_890)]
    [InlineData("999999999999999999", 999_999_999_999_999_999)] // 18 digits, the most
    public void TryParseContentLength_Digits_ReturnsTheValue(string value, long expected)
    {
        var ok = Http1Syntax.TryParseContentLength(Bytes(value), out var length);

        Assert.True(ok);
        Assert.Equal(expected, length);
    }

    [Theory]
    [InlineData("")]
    [InlineData("+5")]
    [InlineData("-1")]
    [InlineData("5, 5")]
    [InlineData("5,5")]
    [InlineData(" 5")]
    [InlineData("5 ")]
    [InlineData("0x5")]
    [InlineData("5a")]
    [InlineData("1.0")]
    [InlineData("1234567890123456789")] // 19 digits
    [InlineData("9999999999999999999")]
    [InlineData("\u0665")] // Arabic-Indic five: not an ASCII digit
    public void TryParseContentLength_NotDigitsOnly_ReturnsFalse(string value)
    {
        Assert.False(Http1Syntax.TryParseContentLength(Bytes(value), out _));
    }

    [Theory]
    [InlineData("a", "a@0")]
    [InlineData("a,b", "a@0 b@2")]
    [InlineData("a, b", "a@0 b@3")]
    [InlineData("  a ,\tb  ,c", "a@2 b@6 c@10")]
    [InlineData(",, a,,b ,", "a@3 b@6")]
    [InlineData("keep-alive, X-Hop", "keep-alive@0 X-Hop@12")]
    [InlineData("gzip ,  chunked", "gzip@0 chunked@8")]
    [InlineData("a b, c", "a b@0 c@5")]
    [InlineData("", "")]
    [InlineData(" , ,\t,", "")]
    public void ListEnumerator_Elements_AreTrimmedWithTheirStart(string value, string expected)
    {
        var bytes = Bytes(value);
        var seen = new List<string>();
        var elements = new Http1Syntax.ListEnumerator(bytes);
        while (elements.MoveNext())
        {
            seen.Add($"{Encoding.Latin1.GetString(elements.Current)}@{elements.CurrentStart}");
            Assert.True(bytes.AsSpan(elements.CurrentStart, elements.Current.Length).SequenceEqual(elements.Current), $"element at {elements.CurrentStart}");
        }

        Assert.Equal(expected, string.Join(' ', seen));
    }

    [Theory]
    [InlineData("", "")]
    [InlineData(" \t ", "")]
    [InlineData(" a ", "a")]
    [InlineData("\ta b\t", "a b")]
    [InlineData("a", "a")]
    public void TrimOws_SpacesAndTabs_AreRemovedFromBothEnds(string value, string expected)
    {
        Assert.Equal(expected, Encoding.Latin1.GetString(Http1Syntax.TrimOws(Bytes(value))));
    }

    [Theory]
    [InlineData("GET", true)]
    [InlineData("X-Custom_Name.1~!#$%&'*+^`|", true)]
    [InlineData("", false)]
    [InlineData("a b", false)]
    [InlineData("a:b", false)]
    [InlineData("a\"b", false)]
    [InlineData("a(b)", false)]
    [InlineData("caf\u00e9", false)]
    public void IsTokenSpan_Characters_FollowTchar(string value, bool expected)
    {
        Assert.Equal(expected, Http1Syntax.IsTokenSpan(Bytes(value)));
    }

    private static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    private static string AlternateCase(string name, bool upperFirst = true)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = (i % 2 == 0) == upperFirst ? char.ToUpperInvariant(chars[i]) : char.ToLowerInvariant(chars[i]);
        }

        return new string(chars);
    }
}

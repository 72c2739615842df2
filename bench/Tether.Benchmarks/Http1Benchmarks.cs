using System.Text;
using BenchmarkDotNet.Attributes;
using Tether.Proxy.Http.FastPath;

namespace Tether.Benchmarks;

/// <summary>The HTTP/1.1 fast path's parsing: a browser-like request head with a persistence cookie, a node's answer
/// head, and a chunked body followed through its framing.</summary>
[MemoryDiagnoser]
public class Http1Benchmarks
{
    private readonly RequestHead _request = new();
    private readonly ResponseHead _response = new();
    private readonly ChunkedBodyReader _chunked = new();
    private byte[] _requestHead = null!;
    private byte[] _responseHead = null!;
    private byte[] _chunkedBody = null!;

    [GlobalSetup]
    public void Setup()
    {
        _requestHead = Encoding.ASCII.GetBytes(
            "GET /app/cart?item=42 HTTP/1.1\r\nHost: shop.example.com\r\n" +
            "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
            "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\n" +
            "Accept-Encoding: gzip, deflate, br\r\nConnection: keep-alive\r\n" +
            "Cookie: session=abc123; tether-1=AgEBAAAAAQAAAONmLj2fjXx5Vj4EawAAAAAzUgxmPY3j2Cde6M60KeIF\r\n" +
            "Upgrade-Insecure-Requests: 1\r\n\r\n");
        _responseHead = Encoding.ASCII.GetBytes(
            "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: text/html; charset=utf-8\r\n" +
            "Date: Mon, 23 Nov 2026 13:23:33 GMT\r\nServer: nginx\r\nCache-Control: private\r\nX-Backend: b1\r\n\r\n");
        var body = new StringBuilder();
        for (var i = 0; i < 16; i++)
        {
            body.Append("400\r\n").Append('x', 0x400).Append("\r\n");
        }

        _chunkedBody = Encoding.ASCII.GetBytes(body.Append("0\r\n\r\n").ToString());
    }

    [Benchmark]
    public int ParseRequestHead() => (int)_request.Parse(_requestHead) + _request.FieldCount;

    [Benchmark]
    public int ParseResponseHead() => (int)_response.Parse(_responseHead) + _response.FieldCount;

    /// <summary>16 chunks of 1 KiB.</summary>
    [Benchmark]
    public int FollowChunkedBody16KiB()
    {
        _chunked.Reset();
        return _chunked.Advance(_chunkedBody);
    }
}

using System.Net;

namespace Tether.FunctionalTests.Infrastructure;

/// <summary>HTTP clients as a browser (cookie jar) or as a client without cookies.</summary>
public static class Clients
{
    public static HttpClient WithCookieJar(int port, out CookieContainer jar)
    {
        jar = new CookieContainer();
        return new HttpClient(new SocketsHttpHandler { UseCookies = true, CookieContainer = jar, UseProxy = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}/"),
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public static HttpClient WithoutCookies(int port) =>
        new(new SocketsHttpHandler { UseCookies = false, UseProxy = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}/"),
            Timeout = TimeSpan.FromSeconds(30),
        };

    /// <summary>Sends <paramref name="count"/> GETs and counts answers per backend name.</summary>
    public static async Task<Dictionary<string, int>> SpreadAsync(HttpClient client, int count, string path = "/")
    {
        var spread = new Dictionary<string, int>();
        for (var i = 0; i < count; i++)
        {
            using var response = await client.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"request {i}: {(int)response.StatusCode} {body}");
            spread[body] = spread.GetValueOrDefault(body) + 1;
        }

        return spread;
    }
}

using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Tether;

/// <summary>
/// A small backend for the walk-through and for trying persistence by hand (<c>tether demo-backend</c>). Every answer
/// names the backend in its body and in an <c>X-Backend</c> header. <c>/login</c> starts an in-memory session (cookie
/// <c>SESSIONID</c>), <c>/whoami</c> says whether the session is known to this backend, <c>/logout</c> deletes it, so a
/// client without session persistence visibly loses its login when it reaches another backend.
/// </summary>
public static class DemoBackend
{
    /// <summary>Builds the backend listening on <paramref name="url"/>.</summary>
    /// <param name="url">For example <c>http://127.0.0.1:9001</c>.</param>
    /// <param name="name">The name it answers with.</param>
    public static WebApplication Build(string url, string name)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls(url);
        var app = builder.Build();
        var sessions = new ConcurrentDictionary<string, string>();
        app.Use((context, next) =>
        {
            context.Response.Headers["X-Backend"] = name;
            return next(context);
        });
        app.MapGet("/login", (HttpContext context, string? user) =>
        {
            var id = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            sessions[id] = user ?? "demo";
            context.Response.Cookies.Append("SESSIONID", id, new CookieOptions { HttpOnly = true, Path = "/" });
            return $"{name}: logged in as {sessions[id]}\n";
        });
        app.MapGet("/whoami", (HttpContext context) =>
            context.Request.Cookies.TryGetValue("SESSIONID", out var id) && id is not null && sessions.TryGetValue(id, out var user)
                ? Results.Text($"{name}: {user}\n")
                : Results.Text($"{name}: not logged in\n", statusCode: StatusCodes.Status401Unauthorized));
        app.MapGet("/logout", (HttpContext context) =>
        {
            if (context.Request.Cookies.TryGetValue("SESSIONID", out var id) && id is not null)
            {
                sessions.TryRemove(id, out _);
            }

            context.Response.Cookies.Delete("SESSIONID");
            return $"{name}: logged out\n";
        });
        app.MapFallback((HttpContext context) => $"{name}\n");
        return app;
    }
}

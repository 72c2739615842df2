using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Time.Testing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using Tether.Proxy.Http;
using Tether.Proxy.Http.FastPath;

namespace Tether.Proxy.Tests.Http.FastPath;

/// <summary><see cref="Http1TimeoutControl"/> driven by hand: the phase set by the connection, the heartbeat called as
/// Kestrel's heartbeat thread would, time on a fake clock.</summary>
public sealed class Http1TimeoutControlTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private const int KeepAliveTimeoutSeconds = 1;

    private readonly FakeTimeProvider _time = new(T0);
    private readonly LoadBalancerRuntime _runtime;
    private readonly Http1Forwarder _forwarder;

    public Http1TimeoutControlTests()
    {
        _runtime = new LoadBalancerRuntime(Config(), new CookieKeyRing([new CookieKey(1, new byte[32])]), _time, new SeededRandomSource(1));
        var options = new ProxyOptions { KeepAliveTimeoutSeconds = KeepAliveTimeoutSeconds };
        _forwarder = new Http1Forwarder(_runtime, options, null, new GatewayErrorLog(_runtime, null), new AnswerCounter(_runtime, null), clock: _time);
    }

    /// <summary>Rackspace stats <c>keepAliveTimedOut</c>/<c>keepAliveTimedOutSsl</c> count client connections closed
    /// idle: one each, even when the connection is still in its idle phase at the next heartbeat (its read has not
    /// seen the abort yet, as on a loaded machine).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OnHeartbeat_IdleConnectionNotClosedByTheNextBeat_CountsOneKeepAliveTimeout(bool ssl)
    {
        var timeouts = new Http1TimeoutControl(_forwarder, new DefaultConnectionContext("c1"), ssl);
        timeouts.SetPhase(Http1Phase.Idle);

        _time.Advance(TimeSpan.FromSeconds(KeepAliveTimeoutSeconds + 1));
        timeouts.OnHeartbeat();
        _time.Advance(TimeSpan.FromSeconds(1));
        timeouts.OnHeartbeat();
        _time.Advance(TimeSpan.FromSeconds(1));
        timeouts.OnHeartbeat();

        Assert.Equal(ssl ? 0 : 1, _runtime.KeepAliveTimeouts);
        Assert.Equal(ssl ? 1 : 0, _runtime.KeepAliveTimeoutsSsl);
    }

    [Fact]
    public void OnHeartbeat_IdleWithinTheKeepAliveTimeout_CountsNothing()
    {
        var timeouts = new Http1TimeoutControl(_forwarder, new DefaultConnectionContext("c1"), isHttps: false);
        timeouts.SetPhase(Http1Phase.Idle);

        _time.Advance(TimeSpan.FromSeconds(KeepAliveTimeoutSeconds));
        timeouts.OnHeartbeat();

        Assert.Equal(0, _runtime.KeepAliveTimeouts);
    }

    public void Dispose() => _forwarder.Dispose();

    private static LoadBalancerConfig Config() => new()
    {
        Id = 7,
        AccountId = 1,
        Name = "lb",
        Protocol = Protocols.Http,
        Port = 80,
        Created = T0,
        Updated = T0,
        Nodes = [new NodeConfig { Id = 1, Address = "10.0.0.1", Port = 80 }],
    };
}

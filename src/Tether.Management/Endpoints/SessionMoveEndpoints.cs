using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tether.Core;
using Tether.Core.Model;
using Tether.Management.Api;

namespace Tether.Management.Endpoints;

/// <summary>
/// <c>POST /loadbalancers/{id}/sessionpersistence/sessions/move</c> (issue 13, beyond the Rackspace anchors;
/// docs/session-persistence.md "Moving sessions", docs/api.md): moves the persisted sessions of one node to another,
/// all of them or a share, for every persistence type, so that a node can be retired, or load rebalanced after a
/// scale-out, without a client losing its session.
/// </summary>
/// <remarks>
/// Body: <c>{"fromNodeId": N, "toNodeId": M, "fraction": 0.5}</c> (root key <c>sessionMove</c> optional;
/// <c>fraction</c> optional, 0 &lt; fraction &lt;= 1, default 1: all). Answers: 200
/// <c>{"moved": n, "remaining": r}</c> (sessions moved; live sessions the old node kept); 404 load balancer or either
/// node not found; 400 a field missing, of the wrong type, out of range, unknown, or the two nodes the same; 422 the
/// new node is not ENABLED (a DRAINING or DISABLED node takes no new clients, so moving clients to it makes no sense).
/// Nothing changes on an error. Each move is written to the audit log (a note, no field change).
/// </remarks>
internal static class SessionMoveEndpoints
{
    /// <summary>The fields of the body.</summary>
    private static readonly FieldSet Fields = new() { Known = ["fromNodeId", "toNodeId", "fraction"] };

    public static void Map(RouteGroupBuilder group, LoadBalancerService service, IRuntimeRegistry runtimes)
    {
        group.MapPost("/loadbalancers/{id:int}/sessionpersistence/sessions/move", async (int account, int id, HttpContext http) =>
        {
            if (service.Find(account, id) is not { } config)
            {
                return JsonNodeResult.Error(ApiError.LoadBalancerNotFound);
            }

            var read = await EndpointHelpers.ReadRootObjectAsync(http, "sessionMove");
            if (read.Error is { } bad)
            {
                return JsonNodeResult.Error(bad);
            }

            var reader = read.Value!;
            reader.CheckFields(Fields);
            var from = reader.Int("fromNodeId");
            var to = reader.Int("toNodeId");
            var fraction = ReadFraction(reader);
            var errors = reader.Issues.Messages;
            if (from is null && !reader.Issues.IsInvalid("fromNodeId"))
            {
                errors.Add("fromNodeId: required: the node whose sessions move");
            }

            if (to is null && !reader.Issues.IsInvalid("toNodeId"))
            {
                errors.Add("toNodeId: required: the node the sessions move to");
            }

            if (from is { } f && to is { } t && f == t)
            {
                errors.Add($"toNodeId: must differ from fromNodeId (both are {f})");
            }

            if (errors.Count > 0)
            {
                return JsonNodeResult.Error(ApiError.Validation(errors));
            }

            if (FindNode(config, from!.Value) is null)
            {
                return JsonNodeResult.Error(new ApiError(404, "Node not found", $"fromNodeId: load balancer {id} has no node {from}"));
            }

            if (FindNode(config, to!.Value) is not { } target)
            {
                return JsonNodeResult.Error(new ApiError(404, "Node not found", $"toNodeId: load balancer {id} has no node {to}"));
            }

            if (target.Condition != NodeCondition.Enabled)
            {
                return JsonNodeResult.Error(new ApiError(422, "Node not ENABLED",
                    $"toNodeId: node {to} is {ApiNames.Condition(target.Condition)}; sessions move only to an ENABLED node"));
            }

            var share = fraction ?? 1.0;
            var result = runtimes.FindRuntime(id)?.MoveSessions(from.Value, to.Value, share) ?? default;
            service.AuditSessionMove(config, string.Create(CultureInfo.InvariantCulture,
                $"session move: {result.Moved} sessions from node {from} to node {to} (fraction {share}); {result.Remaining} remain on node {from}"));
            return JsonNodeResult.Ok(new JsonObject { ["moved"] = result.Moved, ["remaining"] = result.Remaining });
        });
    }

    /// <summary><c>fraction</c>: absent or null, or a number with 0 &lt; fraction &lt;= 1 (errors to the reader's
    /// issues).</summary>
    private static double? ReadFraction(FieldReader reader)
    {
        if (!reader.Element.TryGetProperty("fraction", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !double.IsFinite(number))
        {
            reader.Issues.Add("fraction", "must be a number greater than 0 and at most 1 (the share of the node's sessions to move)");
            return null;
        }

        if (number is <= 0 or > 1)
        {
            reader.Issues.Add("fraction", string.Create(CultureInfo.InvariantCulture,
                $"{value.GetRawText()} is out of range: give a share greater than 0 and at most 1 (1: all the node's sessions)"));
            return null;
        }

        return number;
    }

    private static NodeConfig? FindNode(LoadBalancerConfig config, int nodeId)
    {
        foreach (var node in config.Nodes)
        {
            if (node.Id == nodeId)
            {
                return node;
            }
        }

        return null;
    }
}

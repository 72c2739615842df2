using Tether.Core.Model;

namespace Tether.Management;

/// <summary>The API's (and the store's) names for the model's enums: exact Rackspace v1.0 spellings.</summary>
internal static class ApiNames
{
    public static string Condition(NodeCondition condition) => condition switch
    {
        NodeCondition.Disabled => "DISABLED",
        NodeCondition.Draining => "DRAINING",
        _ => "ENABLED",
    };

    public static bool TryParseCondition(string? name, out NodeCondition condition)
    {
        switch (name)
        {
            case "ENABLED": condition = NodeCondition.Enabled; return true;
            case "DISABLED": condition = NodeCondition.Disabled; return true;
            case "DRAINING": condition = NodeCondition.Draining; return true;
            default: condition = default; return false;
        }
    }

    public static string NodeType(NodeType type) => type == Core.Model.NodeType.Secondary ? "SECONDARY" : "PRIMARY";

    public static bool TryParseNodeType(string? name, out NodeType type)
    {
        switch (name)
        {
            case "PRIMARY": type = Core.Model.NodeType.Primary; return true;
            case "SECONDARY": type = Core.Model.NodeType.Secondary; return true;
            default: type = default; return false;
        }
    }

    public static string NodeStatus(NodeStatus status) => status == Core.Model.NodeStatus.Offline ? "OFFLINE" : "ONLINE";

    public static bool TryParseNodeStatus(string? name, out NodeStatus status)
    {
        switch (name)
        {
            case "ONLINE": status = Core.Model.NodeStatus.Online; return true;
            case "OFFLINE": status = Core.Model.NodeStatus.Offline; return true;
            default: status = default; return false;
        }
    }

    public static string VirtualIpType(VirtualIpType type) =>
        type == Core.Model.VirtualIpType.ServiceNet ? "SERVICENET" : "PUBLIC";

    public static bool TryParseVirtualIpType(string? name, out VirtualIpType type)
    {
        switch (name)
        {
            case "PUBLIC": type = Core.Model.VirtualIpType.Public; return true;
            case "SERVICENET": type = Core.Model.VirtualIpType.ServiceNet; return true;
            default: type = default; return false;
        }
    }

    public static string AccessListType(AccessListType type) => type == Core.Model.AccessListType.Allow ? "ALLOW" : "DENY";

    public static bool TryParseAccessListType(string? name, out AccessListType type)
    {
        switch (name)
        {
            case "ALLOW": type = Core.Model.AccessListType.Allow; return true;
            case "DENY": type = Core.Model.AccessListType.Deny; return true;
            default: type = default; return false;
        }
    }
}

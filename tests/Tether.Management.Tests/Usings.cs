global using System.Text.Json.Nodes;
global using Tether.Management.Tests.TestSupport;

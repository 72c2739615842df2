using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Tether.Cli;

/// <summary>
/// What a command prints on standard output: with <c>-o table</c> tables (Spectre.Console; headers in upper case, as
/// <c>openstack</c> and <c>gcloud</c> print them), with <c>-o json</c> the API's answer, indented. Notes for people
/// ("load balancer 3 deleted") go to standard error, so standard output stays a table or JSON.
/// </summary>
internal sealed class CliOutput
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private readonly IAnsiConsole _console;
    private readonly TextWriter _output;

    public CliOutput(bool json, TextWriter output)
    {
        Json = json;
        _output = output;
        _console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        if (Console.IsOutputRedirected)
        {
            // A pipe or file has no width: Spectre would assume 80 columns and wrap a wide table.
            _console.Profile.Width = 240;
        }
    }

    /// <summary>True with <c>-o json</c>.</summary>
    public bool Json { get; }

    /// <summary>Prints <paramref name="answer"/> as JSON (<c>-o json</c>), or runs <paramref name="table"/>.</summary>
    public void Write(JsonNode? answer, Action table)
    {
        if (Json)
        {
            WriteJson(answer ?? new JsonObject());
        }
        else
        {
            table();
        }
    }

    public void WriteJson(JsonNode answer) => _output.WriteLine(answer.ToJsonString(Indented));

    /// <summary>A table with the given column headers and rows (cells as plain text, never markup).</summary>
    public void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var header in headers)
        {
            table.AddColumn(new TableColumn(new Text(header)));
        }

        foreach (var row in rows)
        {
            table.AddRow([.. row.Select(cell => (Spectre.Console.Rendering.IRenderable)new Text(cell))]);
        }

        _console.Write(table);
    }

    /// <summary>A FIELD / VALUE table of an object's members (as <c>openstack ... show</c>); nested objects and
    /// arrays are written as compact JSON unless <paramref name="format"/> formats them.</summary>
    public void Fields(JsonObject item, Func<string, JsonNode?, string?>? format = null) =>
        Table(["FIELD", "VALUE"], item.Select(p => (IReadOnlyList<string>)[p.Key, format?.Invoke(p.Key, p.Value) ?? Cell(p.Value)]));

    /// <summary>A node as a table cell: strings without quotes, <c>{"time": T}</c> as T, the rest as compact JSON,
    /// absent as empty.</summary>
    public static string Cell(JsonNode? value) => value switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v => v.ToJsonString(),
        JsonObject o when o.Count == 1 && o["time"] is JsonValue t => t.ToString(),
        _ => value.ToJsonString(),
    };

    /// <summary>A number as a cell, or empty.</summary>
    public static string Number(JsonNode? value) => value is JsonValue v && v.TryGetValue<double>(out var d)
        ? d.ToString(CultureInfo.InvariantCulture)
        : Cell(value);

    /// <summary>A note for people on standard error.</summary>
    public static void Note(string text) => Console.Error.WriteLine(text);
}

using System.CommandLine;

namespace Tether.Cli;

/// <summary>
/// <c>tether completion bash|zsh</c>: prints a shell script that completes <c>tether</c>'s commands, options and
/// option values (protocols, algorithms, persistence types, conditions...). The scripts ask <c>tether</c> itself
/// through System.CommandLine's <c>[suggest:POSITION]</c> directive (<c>tether "[suggest:13]" "tether lb li"</c>
/// prints <c>list</c>), so they always match the binary; no <c>dotnet-suggest</c> is needed. Enable it with
/// <c>eval "$(tether completion bash)"</c> in <c>~/.bashrc</c>, or <c>eval "$(tether completion zsh)"</c> in
/// <c>~/.zshrc</c> (docs/operations.md#the-cli).
/// </summary>
internal static class CompletionCommand
{
    /// <summary>bash: the words System.CommandLine suggests for the line up to the cursor, filtered by the word
    /// being completed (the directive matches by substring; bash completes by prefix).</summary>
    public const string Bash = """
        # tether completion for bash; enable with: eval "$(tether completion bash)"
        _tether_complete() {
          local cur="${COMP_WORDS[COMP_CWORD]}" IFS=$'\n'
          local suggestions
          suggestions=$("${COMP_WORDS[0]}" "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null) || return
          COMPREPLY=($(compgen -W "${suggestions}" -- "${cur}"))
        }
        complete -o default -F _tether_complete tether

        """;

    /// <summary>zsh: the same through <c>compadd</c>, which filters by the word's prefix.</summary>
    public const string Zsh = """
        # tether completion for zsh; enable with: eval "$(tether completion zsh)" (after compinit)
        _tether() {
          local -a suggestions
          suggestions=("${(@f)$("${words[1]}" "[suggest:${CURSOR}]" "${BUFFER}" 2>/dev/null)}")
          compadd -- "${suggestions[@]}"
        }
        compdef _tether tether

        """;

    public static Command Create()
    {
        var shell = new Argument<string>("shell") { Description = "bash or zsh." };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var command = new Command("completion", "Print a shell completion script: eval \"$(tether completion bash)\" in ~/.bashrc (or zsh in ~/.zshrc).") { shell };
        command.SetAction(parse =>
        {
            Console.Out.Write(parse.GetValue(shell) == "zsh" ? Zsh : Bash);
            return 0;
        });
        return command;
    }
}

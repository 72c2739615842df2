using System.Globalization;
using System.Runtime.InteropServices;
using Tether.Management.Storage;

namespace Tether;

/// <summary>
/// The data directory as the commands see it: file modes (created 0700, files 0600 on Unix), the warning for an
/// existing directory others can read, and whether a directory holds a Tether store.
/// </summary>
internal static partial class DataDirectory
{
    private const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Sets the process's umask to 077 (Unix): every file and directory Tether creates from here on (the
    /// database and its <c>-wal</c>/<c>-shm</c>, <c>admin-token</c>, <c>logs/</c> and the connection logs) is
    /// readable by its owner only, whatever the umask of the shell that started it.</summary>
    public static void RestrictNewFiles()
    {
        if (!OperatingSystem.IsWindows())
        {
            _ = umask(0x3F);
        }
    }

    /// <summary>Warning lines for an existing data directory, or files in it, that its group or others may use (Tether
    /// does not change an operator's modes); empty when there is nothing to say or on Windows.</summary>
    public static List<string> PermissionWarnings(string directory)
    {
        var warnings = new List<string>();
        if (OperatingSystem.IsWindows() || !Directory.Exists(directory))
        {
            return warnings;
        }

        var mode = File.GetUnixFileMode(directory);
        if ((mode & GroupOrOther) != 0)
        {
            warnings.Add($"warning: the data directory {directory} has mode {Octal(mode)}: its group or others can reach the API tokens and cookie keys in it; run chmod 700 {directory}");
        }

        foreach (var name in new[] { TetherStore.DatabaseFileName, TetherStore.DatabaseFileName + "-wal", TetherStore.DatabaseFileName + "-shm", "admin-token" })
        {
            var file = Path.Combine(directory, name);
            if (File.Exists(file) && (File.GetUnixFileMode(file) & GroupOrOther) != 0)
            {
                warnings.Add($"warning: {file} has mode {Octal(File.GetUnixFileMode(file))}; run chmod 600 {file}");
            }
        }

        return warnings;
    }

    /// <summary>Null when <paramref name="directory"/> holds a Tether store (<c>tether.db</c>); else why not.</summary>
    public static string? MissingStore(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return File.Exists(directory) ? $"{directory} is a file, not a data directory" : $"no data directory at {directory}";
        }

        return File.Exists(Path.Combine(directory, TetherStore.DatabaseFileName))
            ? null
            : $"{directory} holds no Tether store ({TetherStore.DatabaseFileName})";
    }

    /// <summary>Null when this process may create files in <paramref name="directory"/> (it exists and is writable and
    /// searchable) or, when it does not exist, may create it (its nearest existing parent is); else why not. Changes
    /// nothing.</summary>
    public static string? CannotWrite(string directory)
    {
        if (File.Exists(directory))
        {
            return $"{directory} is a file, not a directory";
        }

        var existing = directory;
        while (!Directory.Exists(existing))
        {
            var parent = Path.GetDirectoryName(existing);
            if (parent is null)
            {
                return $"{directory} cannot be created";
            }

            existing = parent;
        }

        if (OperatingSystem.IsWindows() || access(existing, 2 | 1) == 0)
        {
            return null;
        }

        return existing == directory
            ? $"{directory} is not writable by this user"
            : $"{directory} cannot be created: {existing} is not writable by this user";
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0x1FF, 8).PadLeft(3, '0').ToString(CultureInfo.InvariantCulture);

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint umask(uint mask);

    [LibraryImport("libc", EntryPoint = "access", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int access(string path, int mode);
}

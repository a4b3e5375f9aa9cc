using System.Text.RegularExpressions;

namespace BatchRequest.Tests.Engine;

/// <summary>The engine's folders are layers: each imports only the ones below it, and none imports PowerShell.</summary>
public sealed partial class LayeringTests
{
    // Bottom to top. A new folder goes where its imports put it, and here.
    private static readonly string[] Layers =
        ["Resources", "Common", "Requests", "Security", "SharedQuota", "Admission", "Reporting", "Sending", "Journal", "Report", "Running", "Session"];

    public static TheoryData<string> Folders => new(Layers);

    [Theory]
    [MemberData(nameof(Folders))]
    public void Folder_ImportsOnlyLowerLayers(string folder)
    {
        var below = Layers.TakeWhile(layer => layer != folder).ToHashSet();
        var offending = SourcesOf(Path.Combine("src", "BatchRequest.Engine", folder))
            .SelectMany(file => EngineImports(file).Where(import => import != folder && !below.Contains(import))
                .Select(import => $"{Path.GetFileName(file)} imports {import}"))
            .ToList();

        Assert.Empty(offending);
    }

    [Fact]
    public void EngineFolders_AreAllLayers()
    {
        var folders = Directory.GetDirectories(Path.Combine(RepositoryRoot(), "src", "BatchRequest.Engine"))
            .Select(Path.GetFileName)
            .Where(name => name is not ("bin" or "obj"));

        Assert.Equal(Layers.Order(), folders.Order());
    }

    [Theory]
    [InlineData("BatchRequest.Engine")]
    [InlineData("BatchRequest.Model")]
    public void Project_KnowsNothingOfPowerShell(string project)
    {
        var offending = SourcesOf(Path.Combine("src", project))
            .Where(file => File.ReadLines(file).Any(line => line.StartsWith("using System.Management.Automation", StringComparison.Ordinal)));

        Assert.Empty(offending);
    }

    [Fact]
    public void ModelNamespaces_FollowTheirFolders()
    {
        var root = Path.Combine(RepositoryRoot(), "src", "BatchRequest.Model");
        var offending = SourcesOf(Path.Combine("src", "BatchRequest.Model"))
            .Where(file => !File.ReadAllText(file).Contains(
                $"namespace BatchRequest.Model.{Path.GetFileName(Path.GetDirectoryName(file))};", StringComparison.Ordinal));

        Assert.Empty(offending);
        Assert.True(Directory.Exists(root));
    }

    private static IEnumerable<string> EngineImports(string file) =>
        File.ReadLines(file).Select(line => EngineUsing().Match(line)).Where(m => m.Success).Select(m => m.Groups[1].Value);

    private static IEnumerable<string> SourcesOf(string relativeFolder) =>
        Directory.EnumerateFiles(Path.Combine(RepositoryRoot(), relativeFolder), "*.cs", SearchOption.AllDirectories)
            .Where(file => !file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "BatchRequestModule.sln")))
            {
                return folder.FullName;
            }
        }

        throw new DirectoryNotFoundException("The repository root (BatchRequestModule.sln) is not above the test binaries.");
    }

    [GeneratedRegex(@"^using BatchRequest\.Engine\.(\w+)")]
    private static partial Regex EngineUsing();
}

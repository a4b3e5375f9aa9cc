using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace BatchRequest.Loading;

/// <summary>
/// The private load context of the engine and the libraries it depends on (Polly.Core, ...), so that another
/// module's copy of the same library, in another version, can live in the same session.
/// </summary>
internal sealed class DependencyLoadContext : AssemblyLoadContext
{
    private readonly string _directory;
    private readonly string _runtimeDirectory;

    public DependencyLoadContext(string directory)
        : base("BatchRequest", isCollectible: false)
    {
        _directory = directory;
        _runtimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
    }

    /// <summary>The folder the engine and its dependencies are loaded from.</summary>
    public string Directory => _directory;

    // Called first for every reference of an assembly in this context. Returning null hands the name to the
    // default context, which is how the runtime's assemblies and PowerShell's own stay shared: a second copy of
    // System.* would make types that PowerShell passes in incompatible with the ones the engine expects.
    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is not { Length: > 0 } name || IsRuntimeAssembly(name))
        {
            return null;
        }

        var path = Path.Combine(_directory, name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    private bool IsRuntimeAssembly(string name) => File.Exists(Path.Combine(_runtimeDirectory, name + ".dll"));
}

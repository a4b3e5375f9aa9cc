using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace BatchRequest.Loading;

/// <summary>
/// Loads the engine into its own load context when the module is imported. BatchRequest.dll lives in the default
/// context with the cmdlets; its dependencies lie in bin/dependencies, a folder PowerShell does not probe, so the
/// default context fails to find BatchRequest.Engine and asks <see cref="ResolveEngine"/>, which takes it from
/// <see cref="DependencyLoadContext"/>. Everything the engine references is then resolved inside that context.
/// </summary>
public sealed class ModuleAssemblyLoader : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private const string EngineName = "BatchRequest.Engine";
    private const string ModelName = "BatchRequest.Model";
    private const string DependencyFolder = "dependencies";

    // One context per process: a loaded assembly cannot be unloaded, so a re-import must find the same engine.
    private static readonly Lazy<DependencyLoadContext> Context = new(() => new DependencyLoadContext(
        Path.Combine(Path.GetDirectoryName(typeof(ModuleAssemblyLoader).Assembly.Location)!, DependencyFolder)));

    // Imports in several runspaces share the handler; the last removal unhooks it.
    private static readonly object Gate = new();
    private static int _imports;

    /// <summary>Hooks the engine resolver into the default context; called by Import-Module.</summary>
    public void OnImport()
    {
        lock (Gate)
        {
            if (_imports++ == 0)
            {
                AssemblyLoadContext.Default.Resolving += ResolveEngine;
            }
        }
    }

    /// <summary>Unhooks the resolver when the last importer removes the module; called by Remove-Module.</summary>
    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        lock (Gate)
        {
            if (_imports > 0 && --_imports == 0)
            {
                AssemblyLoadContext.Default.Resolving -= ResolveEngine;
            }
        }
    }

    // Only the engine is handed to the default context. Its dependencies are never offered there, so another
    // module asking for Polly.Core gets its own copy, not ours. The model lies beside the cmdlets and belongs to
    // the default context, but a request for it from the engine's context arrives here too, not at PowerShell's
    // probing of the cmdlets' folder, so it is loaded from there.
    private static Assembly? ResolveEngine(AssemblyLoadContext defaultContext, AssemblyName assemblyName)
    {
        if (string.Equals(assemblyName.Name, ModelName, StringComparison.Ordinal))
        {
            var model = Path.Combine(Path.GetDirectoryName(typeof(ModuleAssemblyLoader).Assembly.Location)!, ModelName + ".dll");
            return File.Exists(model) ? defaultContext.LoadFromAssemblyPath(model) : null;
        }

        if (!string.Equals(assemblyName.Name, EngineName, StringComparison.Ordinal))
        {
            return null;
        }

        var context = Context.Value;
        return File.Exists(Path.Combine(context.Directory, EngineName + ".dll"))
            ? context.LoadFromAssemblyName(assemblyName)
            : null;
    }
}

#if !NET5_0_OR_GREATER
namespace System.Runtime.CompilerServices;

// Lets netstandard2.0 compile `init` accessors; the runtime never looks this type up.
internal static class IsExternalInit
{
}
#endif

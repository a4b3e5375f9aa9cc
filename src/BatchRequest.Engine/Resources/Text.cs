using System.Globalization;

namespace BatchRequest.Engine.Resources;

/// <summary>Fills the templates of <see cref="Messages"/> for the user's culture.</summary>
internal static class Text
{
    public static string Format(string template, params object?[] args) =>
        string.Format(CultureInfo.CurrentCulture, template, args);
}

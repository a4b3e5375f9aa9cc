using System.Globalization;

namespace BatchRequest.Engine.Common;

/// <summary>Fills a message template (from a resource file) for the user's culture.</summary>
internal static class Text
{
    public static string Format(string template, params object?[] args) =>
        string.Format(CultureInfo.CurrentCulture, template, args);
}

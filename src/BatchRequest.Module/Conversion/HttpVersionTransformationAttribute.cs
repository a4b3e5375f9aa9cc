using System;
using System.Globalization;
using System.Management.Automation;
using BatchRequest.Engine.Common;
using BatchRequest.Resources;

namespace BatchRequest.Conversion;

/// <summary>Binds -HttpVersion as Invoke-RestMethod does: 1.0, 1.1, 2, 2.0, 3 or 3.0, as a number, string or Version.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class HttpVersionTransformationAttribute : ArgumentTransformationAttribute
{
    private static readonly Version[] Known = { new(1, 0), new(1, 1), new(2, 0), new(3, 0) };

    /// <summary>The <see cref="Version"/> named by <paramref name="inputData"/>; anything else fails to bind.</summary>
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        var text = value switch
        {
            Version given => given.ToString(),
            IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
            _ => value?.ToString() ?? string.Empty,
        };
        text = text.Trim();

        // A bare major version ("2") means its .0, as HTTP/2 and HTTP/3 have no minor versions.
        var version = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? new Version(major, 0)
            : Version.TryParse(text, out var parsed) && parsed.Build <= 0 && parsed.Revision <= 0 ? new Version(parsed.Major, parsed.Minor)
            : null;
        if (version is null || Array.IndexOf(Known, version) < 0)
        {
            throw new ArgumentTransformationMetadataException(Text.Format(Messages.HttpVersionInvalid, text));
        }

        return version;
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;

namespace BatchRequest.Engine.Sending;

/// <summary>Reads the Retry-After header, as delay seconds or as an HTTP date.</summary>
internal static class RetryAfter
{
    /// <summary>Only 429 and 503 carry a Retry-After we obey.</summary>
    public static bool AppliesTo(int statusCode) => statusCode is 429 or 503;

    /// <summary>The delay asked for, or null when the header is absent or malformed.</summary>
    public static TimeSpan? Parse(IReadOnlyDictionary<string, string> headers, DateTimeOffset now)
    {
        if (!headers.TryGetValue("Retry-After", out var value))
        {
            return null;
        }

        value = value.Trim();
        if (double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        if (DateTimeOffset.TryParseExact(value, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
        {
            var delay = date - now;
            return delay > TimeSpan.Zero ? delay : TimeSpan.Zero;
        }

        return null;
    }
}

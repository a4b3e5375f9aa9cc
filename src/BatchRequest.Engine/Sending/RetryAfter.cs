using System;
using System.Collections.Generic;
using System.Globalization;

namespace BatchRequest.Engine.Sending;

/// <summary>Reads the Retry-After header, as delay seconds or as an HTTP date.</summary>
internal static class RetryAfter
{
    // Past this (over 3,000 years) the demand is kept as TimeSpan.MaxValue: still longer than any
    // -MaximumRetryAfterSec, so the record ends Throttled, and TimeSpan.FromSeconds cannot overflow.
    private const double LongestSeconds = 1e11;

    /// <summary>Only 429 and 503 carry a Retry-After we obey.</summary>
    public static bool AppliesTo(int statusCode) => statusCode is 429 or 503;

    /// <summary>
    /// The delay asked for, or null when the header is absent or malformed. Seconds are digits with at most one
    /// decimal point (no sign, exponent or words, so a negative value is malformed); a date in the past is no delay.
    /// </summary>
    public static TimeSpan? Parse(IReadOnlyDictionary<string, string> headers, DateTimeOffset now)
    {
        if (!headers.TryGetValue("Retry-After", out var value))
        {
            return null;
        }

        value = value.Trim();
        if (IsDelaySeconds(value)
            && double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds < LongestSeconds ? TimeSpan.FromSeconds(seconds) : TimeSpan.MaxValue;
        }

        if (DateTimeOffset.TryParseExact(value, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
        {
            var delay = date - now;
            return delay > TimeSpan.Zero ? delay : TimeSpan.Zero;
        }

        return null;
    }

    // double.TryParse alone would also take "Infinity" and "NaN", whatever the number styles.
    private static bool IsDelaySeconds(string value)
    {
        var digits = 0;
        var points = 0;
        foreach (var c in value)
        {
            if (char.IsAsciiDigit(c))
            {
                digits++;
            }
            else if (c != '.' || ++points > 1)
            {
                return false;
            }
        }

        return digits > 0;
    }
}

using System;
using System.Collections;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace BatchRequest.Conversion;

/// <summary>
/// Writes a PowerShell value as a JSON body: hashtables and custom objects as objects, lists as arrays, numbers,
/// booleans and null as themselves, dates in ISO 8601; any other object as its string form.
/// </summary>
internal static class JsonBody
{
    public const int MaximumDepth = 64;

    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <exception cref="TooDeepException">The value nests deeper than <see cref="MaximumDepth"/> (or refers to itself).</exception>
    public static string Serialize(object value)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, Options))
        {
            Write(writer, value, 0);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Write(Utf8JsonWriter writer, object? value, int depth)
    {
        if (depth > MaximumDepth)
        {
            throw new TooDeepException();
        }

        if (value is PSObject wrapped && wrapped.BaseObject is not PSCustomObject)
        {
            value = wrapped.BaseObject;
        }

        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string text:
                writer.WriteStringValue(text);
                break;
            case char c:
                writer.WriteStringValue(c.ToString());
                break;
            case bool flag:
                writer.WriteBooleanValue(flag);
                break;
            case byte or sbyte or short or ushort or int or uint or long:
                writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case ulong big:
                writer.WriteNumberValue(big);
                break;
            case decimal number:
                writer.WriteNumberValue(number);
                break;
            case double or float:
                var real = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (double.IsNaN(real) || double.IsInfinity(real))
                {
                    writer.WriteStringValue(real.ToString(CultureInfo.InvariantCulture));
                }
                else
                {
                    writer.WriteNumberValue(real);
                }

                break;
            case DateTime date:
                writer.WriteStringValue(date.ToString("o", CultureInfo.InvariantCulture));
                break;
            case DateTimeOffset date:
                writer.WriteStringValue(date.ToString("o", CultureInfo.InvariantCulture));
                break;
            case IDictionary dictionary:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    writer.WritePropertyName(entry.Key?.ToString() ?? string.Empty);
                    Write(writer, entry.Value, depth + 1);
                }

                writer.WriteEndObject();
                break;
            case PSObject custom:
                writer.WriteStartObject();
                foreach (var property in custom.Properties)
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value, depth + 1);
                }

                writer.WriteEndObject();
                break;
            case IEnumerable items:
                writer.WriteStartArray();
                foreach (var item in items)
                {
                    Write(writer, item, depth + 1);
                }

                writer.WriteEndArray();
                break;
            default:
                writer.WriteStringValue(value is IFormattable formattable ? formattable.ToString(null, CultureInfo.InvariantCulture) : value.ToString());
                break;
        }
    }

    /// <summary>The value nests too deep to be a body, or refers to itself.</summary>
    internal sealed class TooDeepException : Exception
    {
        public TooDeepException()
            : base("The value nests too deep to be written as JSON.")
        {
        }
    }
}

using System;
using System.Management.Automation;
using BatchRequest.Model.Requests;

namespace BatchRequest.Conversion;

/// <summary>
/// Lets PowerShell turn an object or hashtable into a <see cref="RequestRecord"/> wherever one is expected, so that
/// <c>Import-Csv x.csv | Invoke-BatchRequest</c> binds each row. Registered for the type in BatchRequest.Types.ps1xml.
/// </summary>
public sealed class RequestRecordConverter : PSTypeConverter
{
    public override bool CanConvertFrom(object sourceValue, Type destinationType) =>
        destinationType == typeof(RequestRecord) && ObjectRequestReader.IsRequestLike(sourceValue);

    /// <exception cref="PSInvalidCastException">The object does not make a valid request; the message says why.</exception>
    public override object ConvertFrom(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase)
    {
        var entry = ObjectRequestReader.Read(sourceValue);
        return entry.Record ?? throw new PSInvalidCastException(entry.Problem!.Message, entry.Problem);
    }

    public override bool CanConvertTo(object sourceValue, Type destinationType) => false;

    public override object ConvertTo(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
        throw new NotSupportedException();
}

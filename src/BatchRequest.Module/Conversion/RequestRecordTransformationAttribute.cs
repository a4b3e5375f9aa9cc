using System.Management.Automation;
using BatchRequest.Model.Requests;

namespace BatchRequest.Conversion;

/// <summary>
/// Turns what is bound to a RequestRecord parameter (an Import-Csv row, a hashtable, an object) into a request
/// before the binder tries its own conversion, so that an object that is no request is refused with the reason,
/// not with the binder's generic "the input object cannot be bound".
/// </summary>
public sealed class RequestRecordTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        if (inputData is RequestRecord || (inputData is PSObject { BaseObject: RequestRecord }))
        {
            return inputData;
        }

        var entry = ObjectRequestReader.Read(inputData);
        return entry.Record ?? throw new ArgumentTransformationMetadataException(entry.Problem!.Message, entry.Problem);
    }
}

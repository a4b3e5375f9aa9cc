namespace BatchRequest.Engine.Requests;

/// <summary>The stable error ids of request input; scripts and tests match on these, never on messages.</summary>
public static class RequestErrorIds
{
    public const string FileMalformed = "RequestFileMalformed";
    public const string FileWrongShape = "RequestFileWrongShape";
    public const string FileEmpty = "RequestFileEmpty";
    public const string NotAnObject = "RequestNotAnObject";
    public const string MissingUri = "RequestMissingUri";
    public const string InvalidUri = "RequestInvalidUri";
    public const string InvalidMethod = "RequestInvalidMethod";
    public const string InvalidHeader = "RequestInvalidHeader";
    public const string InvalidProperty = "RequestInvalidProperty";
    public const string UnknownProperty = "RequestUnknownProperty";
}

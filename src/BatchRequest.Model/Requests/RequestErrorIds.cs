namespace BatchRequest.Model.Requests;

/// <summary>The stable error ids of request input; scripts and tests match on these, never on messages.</summary>
public static class RequestErrorIds
{
    public const string FileMalformed = "RequestFileMalformed";
    public const string FileWrongShape = "RequestFileWrongShape";
    public const string FileEmpty = "RequestFileEmpty";
    public const string FileNotFound = "RequestFileNotFound";
    public const string FileIsDirectory = "RequestFileIsDirectory";
    public const string FileUnreadable = "RequestFileUnreadable";
    public const string FileFormatUnknown = "RequestFileFormatUnknown";
    public const string FileChanged = "RequestFileChanged";
    public const string NotAnObject = "RequestNotAnObject";
    public const string MissingUri = "RequestMissingUri";
    public const string InvalidUri = "RequestInvalidUri";
    public const string InvalidMethod = "RequestInvalidMethod";
    public const string InvalidHeader = "RequestInvalidHeader";
    public const string InvalidProperty = "RequestInvalidProperty";
    public const string UnknownProperty = "RequestUnknownProperty";
    public const string DuplicateProperty = "RequestDuplicateProperty";
    public const string DuplicateId = "RequestDuplicateId";
    public const string BodyNotAllowed = "RequestBodyNotAllowed";
    public const string TemplateInvalid = "RequestTemplateInvalid";
    public const string UndefinedVariable = "RequestUndefinedVariable";
    public const string UnsupportedSyntax = "RequestUnsupportedSyntax";
}

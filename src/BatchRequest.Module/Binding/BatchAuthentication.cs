namespace BatchRequest.Binding;

/// <summary>Values of Invoke-BatchRequest -Authentication, named as in Invoke-RestMethod.</summary>
public enum BatchAuthentication
{
    /// <summary>No Authorization header, unless -Token or -Credential implies one.</summary>
    None,

    /// <summary>Authorization: Basic, from -Credential.</summary>
    Basic,

    /// <summary>Authorization: Bearer, from -Token or -TokenProvider.</summary>
    Bearer,

    /// <summary>The same as Bearer.</summary>
    OAuth,
}

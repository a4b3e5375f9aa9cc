namespace BatchRequest.Model.Results;

/// <summary>Why a record did not succeed; <see cref="None"/> for successes.</summary>
public enum ErrorKind
{
    None,
    HttpStatus,
    Timeout,
    ConnectFailed,
    DnsFailure,
    ConnectionReset,
    ProtocolError,
    TlsFailure,
    ResponseTooLarge,
    Throttled,
    CircuitOpen,
    HostNotAllowed,
    InsecureAuthentication,
    RedirectRefused,
    TooManyRedirects,
    Canceled,
    Unexpected,
    TokenRefreshFailed,
    SharedThrottleUnavailable,
}

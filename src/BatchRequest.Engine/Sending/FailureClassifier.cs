using System;
using System.IO;
using System.Net.Http;
using System.Net.Sockets;
using System.Security.Authentication;
using BatchRequest.Engine.Security;
using BatchRequest.Model.Results;
using Polly.CircuitBreaker;

namespace BatchRequest.Engine.Sending;

/// <summary>The retry policy's rules: what a failure was, and whether it may be tried again.</summary>
internal static class FailureClassifier
{
    /// <summary>Whether an answer with this status is worth another attempt.</summary>
    /// <param name="mayResend">The request may be sent twice: idempotent, keyed, or allowed by the caller.</param>
    public static bool ShouldRetry(int statusCode, bool mayResend) => statusCode switch
    {
        429 => true,
        408 or 500 or 502 or 503 or 504 => mayResend,
        _ => false,
    };

    /// <summary>Whether a transport failure is worth another attempt.</summary>
    public static bool ShouldRetry(ErrorKind kind, bool mayResend) => kind switch
    {
        ErrorKind.ConnectFailed or ErrorKind.DnsFailure => true,
        ErrorKind.Timeout or ErrorKind.ConnectionReset or ErrorKind.ProtocolError => mayResend,
        _ => false,
    };

    /// <summary>Whether a failure speaks against the host rather than the record, and so counts toward its circuit.</summary>
    public static bool IsHostFailure(ErrorKind kind) =>
        kind is ErrorKind.ConnectFailed or ErrorKind.DnsFailure or ErrorKind.Timeout or ErrorKind.ConnectionReset
            or ErrorKind.ProtocolError or ErrorKind.TlsFailure;

    /// <summary>Whether an answer speaks against the host rather than the record.</summary>
    /// <remarks>429 and 503 say the host is busy, not down: they slow the batch down and never open its circuit.</remarks>
    public static bool IsHostFailure(int statusCode) => statusCode is 500 or 502 or 504;

    /// <summary>Whether an answer says the host is over its capacity.</summary>
    public static bool IsOverload(int statusCode) => statusCode is 429 or 503;

    /// <summary>True when the request may have been read by the server before the failure.</summary>
    /// <remarks>
    /// A response too large to keep came with headers: the server has acted on the request. A failure nobody
    /// foresaw, once an attempt had started, may have come after the request left.
    /// </remarks>
    public static bool MayHaveReachedServer(ErrorKind kind) =>
        kind is ErrorKind.Timeout or ErrorKind.ConnectionReset or ErrorKind.ProtocolError or ErrorKind.ResponseTooLarge
            or ErrorKind.Unexpected;

    /// <summary>Names a transport failure by walking its inner exceptions.</summary>
    public static ErrorKind KindOf(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case AttemptTimeoutException:
                    return ErrorKind.Timeout;
                case ResponseTooLargeException:
                    return ErrorKind.ResponseTooLarge;
                case OutFileException:
                    return ErrorKind.Unexpected;
                case BrokenCircuitException:
                    return ErrorKind.CircuitOpen;
                case PolicyException policy:
                    return policy.Kind;
                case AuthenticationException:
                    return ErrorKind.TlsFailure;
                case SocketException socket:
                    return KindOf(socket.SocketErrorCode);
                case OperationCanceledException:
                    return ErrorKind.Canceled;
                case HttpRequestException { HttpRequestError: var error } when error != HttpRequestError.Unknown:
                    return KindOf(error);
            }
        }

        return exception is HttpRequestException or IOException ? ErrorKind.ConnectionReset : ErrorKind.Unexpected;
    }

    private static ErrorKind KindOf(SocketError error) => error switch
    {
        SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => ErrorKind.DnsFailure,
        SocketError.ConnectionRefused => ErrorKind.ConnectFailed,
        SocketError.TimedOut => ErrorKind.Timeout,
        _ => ErrorKind.ConnectionReset,
    };

    private static ErrorKind KindOf(HttpRequestError error) => error switch
    {
        HttpRequestError.NameResolutionError => ErrorKind.DnsFailure,
        HttpRequestError.ConnectionError => ErrorKind.ConnectFailed,
        HttpRequestError.SecureConnectionError => ErrorKind.TlsFailure,
        HttpRequestError.HttpProtocolError or HttpRequestError.InvalidResponse
            or HttpRequestError.VersionNegotiationError => ErrorKind.ProtocolError,
        HttpRequestError.ConfigurationLimitExceeded => ErrorKind.ResponseTooLarge,
        _ => ErrorKind.ConnectionReset,
    };
}

using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Net;
using System.Security;
using System.Threading;
using System.Threading.Tasks;
using BatchRequest.Commands;
using BatchRequest.Engine.Security;
using BatchRequest.Engine.Sending;
using BatchRequest.Engine.Session;
using BatchRequest.Engine.SharedQuota;
using BatchRequest.Resources;

namespace BatchRequest.Binding;

/// <summary>Turns the bound parameters of Invoke-BatchRequest into the one options object of its session.</summary>
internal static class SessionOptionsBinder
{
    /// <param name="onPipelineThread">Runs a token refresh on the pipeline thread, where script blocks must run.</param>
    /// <exception cref="ParameterConflictException">Parameters that cannot go together, or a missing one.</exception>
    public static BatchSessionOptions Bind(
        InvokeBatchRequestCommand command,
        Func<Func<string>, CancellationToken, Task<string>> onPipelineThread)
    {
        ParameterRules.Check(command);
        var bound = command.MyInvocation.BoundParameters;
        var options = new BatchSessionOptions { Ordered = command.Ordered };
        options.Admission.ThrottleLimit = command.ThrottleLimit;
        options.Admission.AdaptiveThrottle = command.AdaptiveThrottle;
        options.Admission.RequestsPerSecond = bound.ContainsKey(nameof(command.RequestsPerSecond)) ? command.RequestsPerSecond : null;
        options.Admission.SharedQuota = QuotaFrom(command);

        var sending = options.Sending;
        sending.MaximumRetryCount = command.MaximumRetryCount;
        sending.CircuitBreaker = !command.NoCircuitBreaker;
        sending.CircuitBreakerThreshold = command.CircuitBreakerThreshold;
        sending.CircuitBreakDuration = TimeSpan.FromSeconds(command.CircuitBreakSec);
        sending.RetryInterval = TimeSpan.FromSeconds(command.RetryIntervalSec);
        sending.ConnectionTimeout = TimeSpan.FromSeconds(command.ConnectionTimeoutSeconds);
        sending.OperationTimeout = TimeSpan.FromSeconds(command.OperationTimeoutSeconds);
        sending.MaximumRetryAfter = TimeSpan.FromSeconds(command.MaximumRetryAfterSec);
        sending.IdempotencyKeyHeader = command.IdempotencyKeyHeader;
        sending.RetryNonIdempotent = command.RetryNonIdempotent;
        sending.HttpVersion = command.HttpVersion;
        sending.RecordTimeout = bound.ContainsKey(nameof(command.RecordTimeoutSec)) ? TimeSpan.FromSeconds(command.RecordTimeoutSec) : null;
        sending.CommonHeaders = HeadersFrom(command.Headers);
        sending.SecretHeaders = command.SecretHeader ?? Array.Empty<string>();
        sending.UseDefaultCredentials = command.UseDefaultCredentials;
        sending.AllowUnencryptedAuthentication = command.AllowUnencryptedAuthentication;
        sending.ClientCertificate = command.Certificate;
        sending.Proxy = command.Proxy is null ? null : new WebProxy(command.Proxy) { Credentials = command.ProxyCredential?.GetNetworkCredential() };
        sending.NoProxy = command.NoProxy;
        sending.MaximumRedirection = command.MaximumRedirection;
        sending.FollowCrossOriginRedirect = command.FollowCrossOriginRedirect;
        sending.SkipCertificateCheck = command.SkipCertificateCheck;
        sending.MaximumResponseBytes = command.MaximumResponseBytes;
        sending.AllowedHosts = command.AllowedHost;
        sending.UserAgent = command.UserAgent ?? DefaultUserAgent(command);
        sending.OutDirectory = command.OutDirectory is { } folder
            ? ParameterRules.ExistingFolder(command.SessionState.Path.GetUnresolvedProviderPathFromPSPath(folder))
            : null;
        sending.MaximumOutFileBytes = bound.ContainsKey(nameof(command.MaximumOutFileSize)) ? command.MaximumOutFileSize : long.MaxValue;
        BindAuthentication(command, sending, onPipelineThread);

        var journal = options.Journal;
        var paths = command.SessionState.Path;
        journal.JournalPath = command.JournalPath is null ? null
            : ParameterRules.InExistingFolder(paths.GetUnresolvedProviderPathFromPSPath(command.JournalPath), nameof(command.JournalPath));
        journal.Resume = command.Resume;
        journal.FailedPath = command.FailedPath is null ? null
            : ParameterRules.InExistingFolder(paths.GetUnresolvedProviderPathFromPSPath(command.FailedPath), nameof(command.FailedPath));
        journal.BatchId = command.BatchId;
        return options;
    }

    private static QuotaAddress? QuotaFrom(InvokeBatchRequestCommand command)
    {
        if (command.SharedThrottle is not { } address)
        {
            return null;
        }

        var credential = command.SharedThrottleCredential?.GetNetworkCredential();
        try
        {
            return QuotaAddress.Parse(address, credential?.UserName, credential?.Password);
        }
        catch (SharedQuotaException exception)
        {
            throw new ParameterConflictException(exception.ErrorId, exception.Message, nameof(command.SharedThrottle));
        }
    }

    /// <summary>Names the module and PowerShell with their versions, as Invoke-RestMethod names PowerShell: BatchRequest/1.2.0 PowerShell/7.6.9.</summary>
    private static string DefaultUserAgent(PSCmdlet command)
    {
        var module = command.MyInvocation.MyCommand.Module?.Version ?? typeof(SessionOptionsBinder).Assembly.GetName().Version;
        var powerShell = (command.SessionState.PSVariable.GetValue("PSVersionTable") as IDictionary)?["PSVersion"];
        return $"BatchRequest/{module} PowerShell/{powerShell}";
    }

    private static IReadOnlyDictionary<string, string> HeadersFrom(IDictionary? headers)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (headers is not null)
        {
            foreach (DictionaryEntry entry in headers)
            {
                result[entry.Key.ToString()!] = entry.Value?.ToString() ?? string.Empty;
            }
        }

        return result;
    }

    /// <summary>Checks the authentication parameters together and puts the credentials into the options.</summary>
    private static void BindAuthentication(
        InvokeBatchRequestCommand command,
        SenderOptions options,
        Func<Func<string>, CancellationToken, Task<string>> onPipelineThread)
    {
        var scheme = command.Authentication;
        if (scheme == BatchAuthentication.None)
        {
            scheme = command.Token is not null || command.TokenProvider is not null ? BatchAuthentication.Bearer
                : command.Credential is not null ? BatchAuthentication.Basic
                : BatchAuthentication.None;
        }

        switch (scheme)
        {
            case BatchAuthentication.Bearer or BatchAuthentication.OAuth:
                var provider = command.TokenProvider;
                if (command.Token is null && provider is null)
                {
                    throw new ParameterConflictException(AuthenticationParameterMissing, Messages.TokenRequired, nameof(command.Token));
                }

                // The provider's first answer is the starting token; it runs here, on the pipeline thread.
                var token = command.Token is { } given ? Plain(given) : RunTokenProvider(provider!);
                options.BearerToken = new BearerToken(
                    token,
                    provider is null ? null : cancellationToken => onPipelineThread(() => RunTokenProvider(provider), cancellationToken));
                break;
            case BatchAuthentication.Basic:
                if (command.Credential is not { } credential)
                {
                    throw new ParameterConflictException(AuthenticationParameterMissing, Messages.CredentialRequired, nameof(command.Credential));
                }

                options.BasicCredential = credential.GetNetworkCredential();
                break;
        }
    }

    private const string AuthenticationParameterMissing = "AuthenticationParameterMissing";

    private static string RunTokenProvider(ScriptBlock provider)
    {
        var output = provider.Invoke();
        var last = output.Count > 0 ? output[output.Count - 1]?.BaseObject : null;
        return last switch
        {
            SecureString secure => Plain(secure),
            string text when text.Length > 0 => text,
            _ => throw new PSInvalidOperationException(Messages.TokenProviderReturnedNoToken),
        };
    }

    private static string Plain(SecureString secure) => new NetworkCredential(string.Empty, secure).Password;
}

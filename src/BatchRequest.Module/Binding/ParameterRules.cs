using System;
using System.Collections;
using System.IO;
using BatchRequest.Commands;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Journal;
using BatchRequest.Engine.Requests;
using BatchRequest.Resources;
using BatchRequest.Engine.SharedQuota;

namespace BatchRequest.Binding;

/// <summary>The rules, all in one place, that refuse parameters of Invoke-BatchRequest before anything is sent.</summary>
internal static class ParameterRules
{
    public const string HeaderNameInvalid = "HeaderNameInvalid";
    public const string HeaderValueInvalid = "HeaderValueInvalid";
    public const string TokenWithCredential = "TokenWithCredential";
    public const string TokenWithTokenProvider = "TokenWithTokenProvider";
    public const string ProxyWithNoProxy = "ProxyWithNoProxy";
    public const string ProxyCredentialWithoutProxy = "ProxyCredentialWithoutProxy";
    public const string DefaultCredentialsWithAuthentication = "DefaultCredentialsWithAuthentication";
    public const string OutDirectoryMissing = "OutDirectoryMissing";

    /// <summary>Checks the parameters that go together and every header parameter.</summary>
    /// <exception cref="ParameterConflictException">The first rule broken.</exception>
    public static void Check(InvokeBatchRequestCommand command)
    {
        CheckCombinations(command);
        CheckHeaders(command);
    }

    /// <summary>The provider path of an output file, refused when its folder does not exist.</summary>
    /// <exception cref="ParameterConflictException">The folder is missing: the journal's error id, naming the folder.</exception>
    public static string InExistingFolder(string path, string parameterName)
    {
        // Checked here, not when the file is opened: that would name an internal lock file, and only after the
        // batch has begun.
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder) && !Directory.Exists(folder))
        {
            throw new ParameterConflictException(
                JournalErrorIds.FolderMissing, Text.Format(Messages.OutputFolderMissing, parameterName, folder), parameterName);
        }

        return path;
    }

    /// <summary>The provider path of -OutDirectory, refused when the folder does not exist: no body is written to a folder made up.</summary>
    /// <exception cref="ParameterConflictException">The folder is missing.</exception>
    public static string ExistingFolder(string path)
    {
        if (!Directory.Exists(path))
        {
            Conflict(OutDirectoryMissing, Text.Format(Messages.OutDirectoryMissing, path), nameof(InvokeBatchRequestCommand.OutDirectory));
        }

        return path;
    }

    private static void CheckCombinations(InvokeBatchRequestCommand command)
    {
        var hasToken = command.Token is not null;
        var hasProvider = command.TokenProvider is not null;
        var hasCredential = command.Credential is not null;
        if (command.UseDefaultCredentials
            && (command.Authentication != BatchAuthentication.None || hasToken || hasProvider || hasCredential))
        {
            Conflict(DefaultCredentialsWithAuthentication, Messages.DefaultCredentialsWithAuthentication, nameof(command.UseDefaultCredentials));
        }

        if ((hasToken || hasProvider) && hasCredential)
        {
            Conflict(TokenWithCredential, Messages.TokenWithCredential, nameof(command.Credential));
        }

        // Two sources of one token: which one counts first would be a guess.
        if (hasToken && hasProvider)
        {
            Conflict(TokenWithTokenProvider, Messages.TokenWithTokenProvider, nameof(command.TokenProvider));
        }

        if (command.NoProxy && command.Proxy is not null)
        {
            Conflict(ProxyWithNoProxy, Messages.ProxyWithNoProxy, nameof(command.NoProxy));
        }

        if (command.ProxyCredential is not null && command.Proxy is null)
        {
            Conflict(ProxyCredentialWithoutProxy, Messages.ProxyCredentialWithoutProxy, nameof(command.ProxyCredential));
        }

        if (command.SharedThrottleCredential is not null && command.SharedThrottle is null)
        {
            Conflict(SharedQuotaErrorIds.CredentialWithoutQuota, Messages.SharedThrottleCredentialWithoutQuota, nameof(command.SharedThrottleCredential));
        }
    }

    private static void CheckHeaders(InvokeBatchRequestCommand command)
    {
        if (command.Headers is { } headers)
        {
            foreach (DictionaryEntry entry in headers)
            {
                var name = entry.Key.ToString() ?? string.Empty;
                RequireToken(name, nameof(command.Headers));

                // CR or LF would let a value smuggle in a header, or a request, of its own; other controls have no place either.
                if (entry.Value?.ToString() is { } value && HasControl(value))
                {
                    Conflict(HeaderValueInvalid, Text.Format(Messages.HeaderParameterValueInvalid, name), nameof(command.Headers));
                }
            }
        }

        if (command.UserAgent is { } agent && HasControl(agent))
        {
            Conflict(HeaderValueInvalid, Messages.UserAgentInvalid, nameof(command.UserAgent));
        }

        if (command.IdempotencyKeyHeader is { } idempotencyKeyHeader)
        {
            RequireToken(idempotencyKeyHeader, nameof(command.IdempotencyKeyHeader));
        }

        foreach (var secretHeader in command.SecretHeader ?? Array.Empty<string>())
        {
            RequireToken(secretHeader, nameof(command.SecretHeader));
        }
    }

    /// <summary>An RFC 9110 token, as a header name must be; the name is not repeated, it may hold a whole header line.</summary>
    private static void RequireToken(string name, string parameterName)
    {
        if (!RecordBuilder.IsToken(name))
        {
            Conflict(HeaderNameInvalid, Text.Format(Messages.HeaderParameterNameInvalid, parameterName), parameterName);
        }
    }

    private static bool HasControl(string value)
    {
        foreach (var c in value)
        {
            // A tab is the one control a field value may hold (RFC 9110, 5.5).
            if (char.IsControl(c) && c != '\t')
            {
                return true;
            }
        }

        return false;
    }

    private static void Conflict(string errorId, string message, string parameterName) =>
        throw new ParameterConflictException(errorId, message, parameterName);
}

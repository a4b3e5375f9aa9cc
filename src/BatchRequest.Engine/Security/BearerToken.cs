using System;
using System.Threading;
using System.Threading.Tasks;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using BatchRequest.Model.Results;

namespace BatchRequest.Engine.Security;

/// <summary>
/// The batch's bearer token. When the server rejects it, one refresh serves every worker that saw the old
/// token: the first asks the provider, the others wait for that answer instead of asking again. A refresh that
/// failed is not asked again for the same token: every worker that saw it gets the same failure.
/// </summary>
public sealed class BearerToken
{
    private readonly Func<CancellationToken, Task<string>>? _refresh;
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private volatile Snapshot _current;

    // Why the refresh of the current token failed; null while none did. Guarded by _refreshing.
    private Exception? _failure;

    /// <param name="token">The token to start with.</param>
    /// <param name="refresh">Gets a new token; null when the token cannot be refreshed.</param>
    public BearerToken(string token, Func<CancellationToken, Task<string>>? refresh = null)
    {
        _current = new Snapshot(token, 0);
        _refresh = refresh;
    }

    public bool CanRefresh => _refresh is not null;

    /// <summary>The token now, with a version that tells refreshes apart.</summary>
    public Snapshot Current => _current;

    /// <summary>Replaces the token seen as <paramref name="rejected"/>, unless another worker already did.</summary>
    /// <exception cref="PolicyException">The provider failed, now or for an earlier worker that saw the same token (<see cref="ErrorKind.TokenRefreshFailed"/>).</exception>
    public async Task RefreshAsync(Snapshot rejected, CancellationToken cancellationToken)
    {
        if (_refresh is null)
        {
            throw new InvalidOperationException("This token cannot be refreshed.");
        }

        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_current.Version != rejected.Version)
            {
                return;
            }

            // An interactive provider would prompt once per waiting worker; a failure stands for this token.
            if (_failure is null)
            {
                try
                {
                    _current = new Snapshot(await _refresh(cancellationToken).ConfigureAwait(false), rejected.Version + 1);
                    return;
                }
                catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
                {
                    _failure = exception;
                }
            }

            throw new PolicyException(ErrorKind.TokenRefreshFailed, Text.Format(Messages.TokenRefreshFailed, _failure.Message), _failure);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    /// <summary>A token and the number of refreshes before it.</summary>
    public sealed class Snapshot
    {
        internal Snapshot(string value, int version)
        {
            Value = value;
            Version = version;
        }

        public string Value { get; }

        public int Version { get; }
    }
}

using System;
using System.Threading;
using System.Threading.Tasks;

namespace BatchRequest.Engine.Security;

/// <summary>
/// The batch's bearer token. When the server rejects it, one refresh serves every worker that saw the old
/// token: the first asks the provider, the others wait for that answer instead of asking again.
/// </summary>
public sealed class BearerToken
{
    private readonly Func<CancellationToken, Task<string>>? _refresh;
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private volatile Snapshot _current;

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
    public async Task RefreshAsync(Snapshot rejected, CancellationToken cancellationToken)
    {
        if (_refresh is null)
        {
            throw new InvalidOperationException("This token cannot be refreshed.");
        }

        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_current.Version == rejected.Version)
            {
                var token = await _refresh(cancellationToken).ConfigureAwait(false);
                _current = new Snapshot(token, rejected.Version + 1);
            }
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

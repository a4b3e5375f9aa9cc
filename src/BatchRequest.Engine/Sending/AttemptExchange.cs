using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using BatchRequest.Engine.Security;
using BatchRequest.Model.Requests;
using BatchRequest.Model.Results;

namespace BatchRequest.Engine.Sending;

/// <summary>
/// One attempt at the wire: sends the record, follows its redirects here rather than in the handler (which would
/// carry custom secret headers to another host), answers a 401 once with a fresh token, and reads the answer.
/// </summary>
internal sealed class AttemptExchange
{
    private readonly HttpClient _client;
    private readonly SenderOptions _options;
    private readonly Redactor _redactor;
    private readonly RequestMessageBuilder _messages;
    private readonly AnswerReader _reader;
    private readonly HostAllowList? _allowedHosts;
    private readonly string? _secretCommonHeader;

    public AttemptExchange(HttpClient client, SenderOptions options, Redactor redactor, TimeProvider time)
    {
        _client = client;
        _options = options;
        _redactor = redactor;
        _messages = new RequestMessageBuilder(options, redactor);
        _reader = new AnswerReader(options, time);
        _allowedHosts = options.AllowedHosts is { } hosts ? new HostAllowList(hosts) : null;
        _secretCommonHeader = options.CommonHeaders.Keys.FirstOrDefault(redactor.IsSecretHeader);
    }

    /// <summary>
    /// Refuses a host (or port) outside the allow-list, and over plain http, unless allowed, credentials: the
    /// batch's token or credential, and any secret header of the batch or of the record.
    /// </summary>
    /// <param name="carriesSecrets">False for a hop that drops them (a cross-origin redirect).</param>
    public void EnsureMaySend(RequestRecord record, Uri uri, bool carriesSecrets)
    {
        if (_allowedHosts is not null && !_allowedHosts.Allows(uri))
        {
            throw new PolicyException(ErrorKind.HostNotAllowed, Text.Format(Messages.HostNotAllowed, HostAllowList.Shown(uri)));
        }

        if (!carriesSecrets || uri.Scheme != Uri.UriSchemeHttp || _options.AllowUnencryptedAuthentication)
        {
            return;
        }

        if (HasCredentials)
        {
            throw new PolicyException(ErrorKind.InsecureAuthentication, Messages.CredentialsOverHttpRefused);
        }

        // The name only: the value is the secret.
        if ((_secretCommonHeader ?? record.Headers.Keys.FirstOrDefault(_redactor.IsSecretHeader)) is { } header)
        {
            throw new PolicyException(ErrorKind.InsecureAuthentication, Text.Format(Messages.SecretHeaderOverHttpRefused, header));
        }
    }

    /// <summary>The record's first request as text safe to show; see <see cref="RequestMessageBuilder.Describe"/>.</summary>
    public string Describe(OutgoingRecord outgoing) => _messages.Describe(outgoing);

    /// <param name="cancellationToken">The record's budget and the batch's stop; the attempt's own timers are inside.</param>
    public async Task<HttpAnswer> RunAsync(OutgoingRecord outgoing, CancellationToken cancellationToken)
    {
        // One timer per attempt: it bounds each wait for headers, then each read of the body.
        using var attemptTimer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        HttpResponseMessage response;
        try
        {
            response = await SendFollowingRedirectsAsync(outgoing, attemptTimer, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException tunnel) when (tunnel is { HttpRequestError: HttpRequestError.ProxyTunnelError, StatusCode: { } })
        {
            // The proxy answered the tunnel request (407 without the right -ProxyCredential) and nothing reached the
            // origin: its status is the answer, retried by the rules of statuses, as through a proxy over plain http.
            using var refusal = new HttpResponseMessage(tunnel.StatusCode!.Value);
            return new HttpAnswer((int)refusal.StatusCode, refusal.ReasonPhrase, new Dictionary<string, string>());
        }

        using (response)
        {
            return await _reader.ReadAsync(response, outgoing.Record.Id, attemptTimer, cancellationToken).ConfigureAwait(false);
        }
    }

    private bool HasCredentials => _options.BearerToken is not null || _options.BasicCredential is not null || _options.UseDefaultCredentials;

    private async Task<HttpResponseMessage> SendFollowingRedirectsAsync(
        OutgoingRecord outgoing,
        CancellationTokenSource attemptTimer,
        CancellationToken cancellationToken)
    {
        var record = outgoing.Record;
        var hop = new Hop(record.Uri, record.Method, record.Body is not null, CarriesSecrets: true);
        var refreshed = false;
        for (var hops = 0; ; )
        {
            var token = hop.CarriesSecrets ? _options.BearerToken?.Current : null;
            using var request = _messages.Build(outgoing, hop, token);
            HttpResponseMessage response;
            try
            {
                attemptTimer.CancelAfter(_options.ConnectionTimeout);
                response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attemptTimer.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new AttemptTimeoutException(Text.Format(Messages.HeadersTimedOut, _options.ConnectionTimeout.TotalSeconds));
            }

            var status = (int)response.StatusCode;
            if (status == 401 && token is not null && !refreshed && _options.BearerToken!.CanRefresh)
            {
                response.Dispose();

                // The refresh may wait for the pipeline thread; that time belongs to no request.
                attemptTimer.CancelAfter(Timeout.InfiniteTimeSpan);
                await _options.BearerToken.RefreshAsync(token, cancellationToken).ConfigureAwait(false);
                refreshed = true;
                continue;
            }

            if (!RedirectPolicy.IsRedirect(status) || response.Headers.Location is not { } location || _options.MaximumRedirection == 0)
            {
                return response;
            }

            response.Dispose();
            if (++hops > _options.MaximumRedirection)
            {
                throw new PolicyException(ErrorKind.TooManyRedirects, Text.Format(Messages.TooManyRedirects, _options.MaximumRedirection));
            }

            hop = NextHop(record, hop, new Uri(hop.Uri, location), status);
        }
    }

    private Hop NextHop(RequestRecord record, Hop from, Uri to, int statusCode)
    {
        var shown = _redactor.Redact(to);
        if (!RedirectPolicy.IsHttp(to))
        {
            throw new PolicyException(ErrorKind.RedirectRefused, Text.Format(Messages.RedirectSchemeRefused, shown));
        }

        if (RedirectPolicy.IsDowngrade(from.Uri, to))
        {
            throw new PolicyException(ErrorKind.RedirectRefused, Text.Format(Messages.RedirectDowngradeRefused, shown));
        }

        var sameOrigin = RedirectPolicy.IsSameOrigin(from.Uri, to);
        if (!sameOrigin && !_options.FollowCrossOriginRedirect)
        {
            throw new PolicyException(ErrorKind.RedirectRefused, Text.Format(Messages.RedirectCrossOriginRefused, shown));
        }

        // The connection pool answers challenges with these on every host; they cannot be dropped for one hop.
        if (!sameOrigin && (_options.UseDefaultCredentials || _options.ClientCertificate is not null))
        {
            throw new PolicyException(ErrorKind.RedirectRefused, Text.Format(Messages.RedirectCrossOriginWithHandlerCredentials, shown));
        }

        var carriesSecrets = from.CarriesSecrets && sameOrigin;
        EnsureMaySend(record, to, carriesSecrets);
        var method = RedirectPolicy.NextMethod(statusCode, from.Method);
        return new Hop(to, method, from.SendsBody && method == from.Method, carriesSecrets);
    }
}

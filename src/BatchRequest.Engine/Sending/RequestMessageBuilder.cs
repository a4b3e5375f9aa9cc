using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using BatchRequest.Engine.Security;

namespace BatchRequest.Engine.Sending;

/// <summary>Builds a fresh <see cref="HttpRequestMessage"/> for every request of every attempt.</summary>
internal sealed class RequestMessageBuilder
{
    private readonly SenderOptions _options;
    private readonly Redactor _redactor;

    public RequestMessageBuilder(SenderOptions options, Redactor redactor)
    {
        _options = options;
        _redactor = redactor;
    }

    public HttpRequestMessage Build(OutgoingRecord outgoing, Hop hop, BearerToken.Snapshot? token)
    {
        var record = outgoing.Record;
        var request = new HttpRequestMessage(new HttpMethod(hop.Method), hop.Uri)
        {
            Version = _options.HttpVersion,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        if (hop.SendsBody)
        {
            request.Content = new StringContent(record.Body!, Encoding.UTF8);
            request.Content.Headers.Remove("Content-Type");
            request.Content.Headers.TryAddWithoutValidation("Content-Type", record.ContentType ?? "text/plain; charset=utf-8");
        }

        // The agent, then batch headers, so a record's own header of the same name replaces them.
        if (_options.UserAgent is { } agent)
        {
            request.Headers.TryAddWithoutValidation("User-Agent", agent);
        }

        AddHeaders(request, _options.CommonHeaders, hop.CarriesSecrets);
        AddHeaders(request, record.Headers, hop.CarriesSecrets);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Value);
        }
        else if (hop.CarriesSecrets && _options.BasicCredential is { } basic)
        {
            var pair = Encoding.UTF8.GetBytes(basic.UserName + ":" + basic.Password);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(pair));
        }

        if (_options.IdempotencyKeyHeader is { } keyHeader)
        {
            request.Headers.Remove(keyHeader);
            request.Headers.TryAddWithoutValidation(keyHeader, outgoing.IdempotencyKey);
        }

        return request;
    }

    /// <summary>
    /// The record's first request as text safe to show (-WhatIf): method, URI, every header it would carry, from the
    /// message <see cref="Build"/> makes, with secrets masked by the batch's redactor, and the body's size.
    /// </summary>
    public string Describe(OutgoingRecord outgoing)
    {
        var record = outgoing.Record;
        var hop = new Hop(record.Uri, record.Method, record.Body is not null, CarriesSecrets: true);
        using var request = Build(outgoing, hop, _options.BearerToken?.Current);
        var text = new StringBuilder(record.Method).Append(' ').Append(_redactor.Redact(record.Uri).AbsoluteUri);
        // Not validated: the values as they will be sent, not as the parser would split them.
        var headers = request.Content is { } content ? request.Headers.NonValidated.Concat(content.Headers.NonValidated) : request.Headers.NonValidated;
        foreach (var header in headers)
        {
            var value = _redactor.IsSecretHeader(header.Key) ? Redactor.Mask : header.Value.ToString();
            text.AppendLine().Append(Text.Format(Messages.DescribedHeader, header.Key, value));
        }

        if (record.Body is { } body)
        {
            text.AppendLine().Append(Text.Format(Messages.DescribedBody, Encoding.UTF8.GetByteCount(body)));
        }

        return text.ToString();
    }

    private void AddHeaders(HttpRequestMessage request, IReadOnlyDictionary<string, string> headers, bool withSecrets)
    {
        foreach (var header in headers)
        {
            if (!withSecrets && _redactor.IsSecretHeader(header.Key))
            {
                continue;
            }

            request.Headers.Remove(header.Key);
            if (!request.Headers.TryAddWithoutValidation(header.Key, header.Value) && request.Content is not null)
            {
                request.Content.Headers.Remove(header.Key);
                request.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }
    }
}

/// <summary>One request of an attempt: the first, or one after a redirect.</summary>
internal sealed record Hop(Uri Uri, string Method, bool SendsBody, bool CarriesSecrets);

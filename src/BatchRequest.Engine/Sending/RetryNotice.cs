using System;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Sending;

/// <summary>Announces one retry: which record, after what, and how long it waits.</summary>
/// <param name="Record">The record, with its secrets masked: fit to show.</param>
/// <param name="NextAttempt">Number of the attempt about to start (2 for the first retry).</param>
/// <param name="Delay">How long the record waits before it.</param>
/// <param name="Reason">The failure that caused the retry, without secrets.</param>
/// <param name="DelayFromServer">True when the delay is the server's Retry-After, false when it is our backoff.</param>
public sealed record RetryNotice(RequestRecord Record, int NextAttempt, TimeSpan Delay, string Reason, bool DelayFromServer);

using System;
using System.Threading;
using System.Threading.Tasks;

namespace BatchRequest.Engine.Admission;

/// <summary>
/// Decides whether an attempt may start now, and learns how it ended. The contract, for every implementation:
/// <list type="bullet">
/// <item>The sender calls <see cref="AdmitAsync"/> before every attempt, retries included, and sends only once the
/// ticket is in hand; the wait is cancellable and holds nothing once cancelled.</item>
/// <item>Every ticket is told exactly once how its attempt ended (<see cref="IAdmissionTicket.Complete"/>), or is
/// disposed without a word when no request left, and is disposed in both cases.</item>
/// <item>Implementations are called from many workers at once and must not block a thread.</item>
/// </list>
/// A fixed throttle, a request rate and the hosts' Retry-After pauses are the first implementations; an adaptive
/// limit or a quota shared between processes plugs in here without the runner or the cmdlet knowing.
/// </summary>
public interface IAdmission : IDisposable
{
    /// <summary>Completes when an attempt to <paramref name="host"/> (scheme-less authority) may start.</summary>
    ValueTask<IAdmissionTicket> AdmitAsync(string host, CancellationToken cancellationToken);
}

/// <summary>The right to run one attempt; disposing it gives that right back.</summary>
public interface IAdmissionTicket : IDisposable
{
    /// <summary>Says how the attempt ended; called at most once, before <see cref="IDisposable.Dispose"/>.</summary>
    void Complete(AttemptFeedback feedback);
}

/// <summary>How the server treated an attempt, as far as admission cares.</summary>
public enum AttemptSignal
{
    /// <summary>An answer that says nothing against the host's capacity (2xx, 3xx, most 4xx).</summary>
    Answered,

    /// <summary>The host is busy: 429, 503, or a refusal while other requests get through. Slow down, retry.</summary>
    Overloaded,

    /// <summary>The attempt failed in a way that speaks against the host (5xx, timeout, connection failure).</summary>
    Failed,

    /// <summary>The attempt was stopped by us; it says nothing about the host.</summary>
    Canceled,
}

/// <summary>What admission learns from one attempt.</summary>
/// <param name="Signal">How the attempt ended.</param>
/// <param name="Latency">From the start of the attempt to its end.</param>
/// <param name="RetryAfter">The server's demand to wait, when it made one that the batch obeys.</param>
public readonly record struct AttemptFeedback(AttemptSignal Signal, TimeSpan Latency, TimeSpan? RetryAfter = null);

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace BatchRequest.Engine.Admission;

/// <summary>Several admissions in order: an attempt starts once each has let it through, and each learns its end.</summary>
public sealed class CompositeAdmission : IAdmission
{
    private readonly IAdmission[] _parts;

    /// <param name="parts">Asked in this order; ask the one that only waits (a host pause) before the ones that hold.</param>
    public CompositeAdmission(IEnumerable<IAdmission> parts) => _parts = parts.ToArray();

    /// <summary>
    /// The admission a batch's options ask for: pauses, then the throttle (fixed or adaptive), then the rate, which
    /// with a shared quota is the quota's, after this process's own throttle.
    /// </summary>
    /// <param name="onLimitChange">Told (host, previous, current) when an adaptive limit changes.</param>
    /// <param name="onPause">Told (host, resume time) when a host's Retry-After pause begins or grows.</param>
    /// <exception cref="SharedQuota.SharedQuotaException">The shared quota's store cannot be reached.</exception>
    public static CompositeAdmission For(
        AdmissionOptions options,
        TimeProvider time,
        Action<string, int, int>? onLimitChange = null,
        Action<string, DateTimeOffset>? onPause = null)
    {
        options.Validate();
        var shared = options.SharedQuota is { } address
            ? SharedQuotaAdmission.Connect(address, options.ThrottleLimit, options.RequestsPerSecond, time)
            : null;
        if (shared is not null && options.AdaptiveThrottle)
        {
            // The limit this process finds becomes the fleet's, so all participants converge on it together.
            var tell = onLimitChange;
            onLimitChange = (host, previous, current) =>
            {
                shared.ShareLimit(current);
                tell?.Invoke(host, previous, current);
            };
        }

        var parts = new List<IAdmission>
        {
            new HostPauseGate(time, onPause),
            options.AdaptiveThrottle
                ? new AdaptiveConcurrencyAdmission(options.ThrottleLimit, time, onLimitChange)
                : new ConcurrencyAdmission(options.ThrottleLimit),
        };
        if (shared is not null)
        {
            parts.Add(shared);
        }
        else if (options.RequestsPerSecond is { } rate)
        {
            // After the slot: a start paced while holding a slot reaches the server at the pace, not in a bunch.
            parts.Add(new RateAdmission(rate, time));
        }

        return new CompositeAdmission(parts);
    }

    // Loops, not LINQ: these are read once, at the end of a batch, where a fresh process would compile LINQ's
    // code for the nullable report types first.

    /// <summary>What the shared quota did for this process; null without one.</summary>
    public QuotaReport? Quota()
    {
        foreach (var part in _parts)
        {
            if (part is SharedQuotaAdmission quota)
            {
                return quota.Report();
            }
        }

        return null;
    }

    /// <summary>The concurrency limit of the part that limits concurrency; null when none does.</summary>
    public LimitReport? Report()
    {
        foreach (var part in _parts)
        {
            if (part is ILimitReporter limit)
            {
                return limit.Report();
            }
        }

        return null;
    }

    public async ValueTask<IAdmissionTicket> AdmitAsync(string host, CancellationToken cancellationToken)
    {
        var tickets = new IAdmissionTicket[_parts.Length];
        var held = 0;
        try
        {
            for (; held < _parts.Length; held++)
            {
                tickets[held] = await _parts[held].AdmitAsync(host, cancellationToken).ConfigureAwait(false);
            }

            return new Ticket(tickets);
        }
        catch
        {
            // A wait that was cancelled gives back what the earlier parts had granted.
            for (var i = held - 1; i >= 0; i--)
            {
                tickets[i].Dispose();
            }

            throw;
        }
    }

    public void Dispose()
    {
        foreach (var part in _parts)
        {
            part.Dispose();
        }
    }

    private sealed class Ticket : IAdmissionTicket
    {
        private readonly IAdmissionTicket[] _tickets;

        public Ticket(IAdmissionTicket[] tickets) => _tickets = tickets;

        public void Complete(AttemptFeedback feedback)
        {
            foreach (var ticket in _tickets)
            {
                ticket.Complete(feedback);
            }
        }

        public void Dispose()
        {
            for (var i = _tickets.Length - 1; i >= 0; i--)
            {
                _tickets[i].Dispose();
            }
        }
    }
}

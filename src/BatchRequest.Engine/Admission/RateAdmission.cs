using System;
using System.Threading;
using System.Threading.RateLimiting;
using System.Threading.Tasks;

namespace BatchRequest.Engine.Admission;

/// <summary>
/// Most attempt starts per second over the whole batch, retries included: the rate is what the server sees, not
/// what the file holds.
/// </summary>
internal sealed class RateAdmission : IAdmission
{
    private readonly RateLimiter _limiter;

    public RateAdmission(double requestsPerSecond)
    {
        // A token bucket refilled in small steps, so a rate never arrives as one burst per second: at most a tenth
        // of a second's worth at once, and a period that makes the rate exact.
        var tokensPerPeriod = Math.Max(1, (int)Math.Ceiling(requestsPerSecond / 10));
        _limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = tokensPerPeriod,
            TokensPerPeriod = tokensPerPeriod,
            ReplenishmentPeriod = TimeSpan.FromSeconds(tokensPerPeriod / requestsPerSecond),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    public async ValueTask<IAdmissionTicket> AdmitAsync(string host, CancellationToken cancellationToken)
    {
        // A start spends its token for good: a failed attempt was still a request at the server.
        using var lease = await _limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        return NoTicket.Instance;
    }

    public void Dispose() => _limiter.Dispose();
}

using BatchRequest.Engine.Admission;
using BatchRequest.Engine.Journal;
using BatchRequest.Engine.Sending;

namespace BatchRequest.Engine.Session;

/// <summary>
/// Everything a batch is configured by, in one object, grouped by the layer that uses it. The defaults are the
/// cmdlet's documented ones.
/// </summary>
public sealed class BatchSessionOptions
{
    /// <summary>How results a record may be held back for, per throttle slot, while an earlier record still runs.</summary>
    public const int ReorderWindowPerSlot = 4;

    /// <summary>What may start when: the throttle, the request rate.</summary>
    public AdmissionOptions Admission { get; } = new();

    /// <summary>How each record is sent: retries, timeouts, credentials, redirects, limits.</summary>
    public SenderOptions Sending { get; } = new();

    /// <summary>The journal, resume and the failed-records file; none by default.</summary>
    public DurableRunOptions Journal { get; } = new();

    /// <summary>Deliver results in input order, holding back a bounded number, instead of completion order.</summary>
    public bool Ordered { get; set; }

    /// <summary>Throws <see cref="System.ArgumentOutOfRangeException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        Admission.Validate();
        Sending.Validate();
    }
}

using System.Collections.Concurrent;

namespace BatchRequest.TestServer;

/// <summary>One arrival of a request, as the ledger keeps it; <c>ClientCertificate</c> is the thumbprint of the one presented.</summary>
public sealed record Arrival(
    string? Id,
    string Method,
    string Host,
    string Path,
    DateTimeOffset Time,
    string? IdempotencyKey,
    string? Authorization,
    string? ApiKey,
    string? ClientCertificate = null);

/// <summary>What the server has seen: totals, concurrency high-water marks and the per-id ledger.</summary>
public sealed class ServerStats
{
    private readonly ConcurrentQueue<Arrival> _ledger = new();

    // Connections that carried requests under test; the stats and reset calls of the tests do not count.
    private readonly ConcurrentDictionary<string, bool> _requestConnections = new();

    // Those of them still open: once none is and the client is gone, no request under test can arrive any more.
    private readonly ConcurrentDictionary<string, bool> _openRequestConnections = new();
    private long _served;
    private long _inFlight;
    private long _maxInFlight;
    private long _openConnections;
    private long _maxOpenConnections;

    // The overload routes (/capped, /paced): one counter set, since a test uses one cap or one pace at a time.
    private long _cappedInFlight;
    private long _cappedServed;
    private long _cappedRejected;
    private long _cappedMaxInFlight;
    private long _pacedAccepted;
    private long _pacedRejected;

    public long Served => Interlocked.Read(ref _served);

    public long InFlight => Interlocked.Read(ref _inFlight);

    public long MaxInFlight => Interlocked.Read(ref _maxInFlight);

    /// <summary>Distinct connections that carried requests under test since the last reset.</summary>
    public long Connections => _requestConnections.Count;

    public long MaxOpenConnections => Interlocked.Read(ref _maxOpenConnections);

    /// <summary>Requests /capped served, and turned away with 503, since the last reset.</summary>
    public long CappedServed => Interlocked.Read(ref _cappedServed);

    public long CappedRejected => Interlocked.Read(ref _cappedRejected);

    public long CappedMaxInFlight => Interlocked.Read(ref _cappedMaxInFlight);

    public IReadOnlyCollection<Arrival> Ledger => _ledger.ToArray();

    public void Arrived(Arrival arrival, string connectionId)
    {
        _requestConnections.TryAdd(connectionId, true);
        _openRequestConnections.TryAdd(connectionId, true);
        _ledger.Enqueue(arrival);
        Interlocked.Increment(ref _served);
        RaiseMax(ref _maxInFlight, Interlocked.Increment(ref _inFlight));
    }

    public void Left() => Interlocked.Decrement(ref _inFlight);

    public void ConnectionOpened()
    {
        RaiseMax(ref _maxOpenConnections, Interlocked.Increment(ref _openConnections));
    }

    public void ConnectionClosed(string connectionId)
    {
        _openRequestConnections.TryRemove(connectionId, out _);
        Interlocked.Decrement(ref _openConnections);
    }

    /// <summary>Takes one of <paramref name="limit"/> slots, or counts a rejection when all are taken.</summary>
    /// <returns>The requests in service with this one, or 0 when it was turned away.</returns>
    public long TryEnterCapped(int limit)
    {
        var inFlight = Interlocked.Increment(ref _cappedInFlight);
        if (inFlight > limit)
        {
            Interlocked.Decrement(ref _cappedInFlight);
            Interlocked.Increment(ref _cappedRejected);
            return 0;
        }

        Interlocked.Increment(ref _cappedServed);
        RaiseMax(ref _cappedMaxInFlight, inFlight);
        return inFlight;
    }

    public void LeaveCapped() => Interlocked.Decrement(ref _cappedInFlight);

    public void Paced(bool accepted)
    {
        if (accepted)
        {
            Interlocked.Increment(ref _pacedAccepted);
        }
        else
        {
            Interlocked.Increment(ref _pacedRejected);
        }
    }

    /// <summary>Starts a new measurement; open connections stay counted as open.</summary>
    public void Reset()
    {
        _ledger.Clear();
        Interlocked.Exchange(ref _served, 0);
        Interlocked.Exchange(ref _maxInFlight, Interlocked.Read(ref _inFlight));
        _requestConnections.Clear();
        Interlocked.Exchange(ref _maxOpenConnections, Interlocked.Read(ref _openConnections));
        Interlocked.Exchange(ref _cappedServed, 0);
        Interlocked.Exchange(ref _cappedRejected, 0);
        Interlocked.Exchange(ref _cappedMaxInFlight, Interlocked.Read(ref _cappedInFlight));
        Interlocked.Exchange(ref _pacedAccepted, 0);
        Interlocked.Exchange(ref _pacedRejected, 0);
    }

    public object Snapshot() => new
    {
        served = Served,
        inFlight = InFlight,
        maxInFlight = MaxInFlight,
        connections = Connections,
        openRequestConnections = _openRequestConnections.Count,
        maxOpenConnections = MaxOpenConnections,
        cappedServed = CappedServed,
        cappedRejected = CappedRejected,
        cappedMaxInFlight = CappedMaxInFlight,
        pacedAccepted = Interlocked.Read(ref _pacedAccepted),
        pacedRejected = Interlocked.Read(ref _pacedRejected),
    };

    private static void RaiseMax(ref long max, long value)
    {
        long current;
        while (value > (current = Interlocked.Read(ref max)) && Interlocked.CompareExchange(ref max, value, current) != current)
        {
        }
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using StackExchange.Redis;

namespace BatchRequest.Engine.SharedQuota;

/// <summary>What <see cref="QuotaStore.TryAcquireAsync"/> found: slots (each after a wait the rate asks for), or why none.</summary>
/// <param name="Starts">For each lease granted, in the order asked, how long to wait before starting; empty when none was.</param>
/// <param name="Paused">None granted: how long the host stays paused, or null while every slot is held.</param>
/// <param name="Held">Slots held fleet-wide with the ones granted.</param>
internal readonly record struct AcquireResult(TimeSpan[] Starts, TimeSpan? Paused, int Held)
{
    public int Granted => Starts.Length;
}

/// <summary>
/// One quota on one Redis server: one multiplexed connection per batch, every update a script
/// (<see cref="QuotaScripts"/>), and a subscription that says when another participant gave a slot back.
/// Commands fail at once while the connection is down (no backlog), so the caller decides how long to wait.
/// </summary>
internal sealed class QuotaStore : IDisposable
{
    private readonly ConnectionMultiplexer _redis;
    private readonly IDatabase _database;
    private readonly RedisKey[] _acquireKeys;
    private readonly RedisKey[] _slotsKey;
    private readonly RedisKey[] _pausesKey;
    private readonly RedisKey _limitKey;
    private readonly RedisChannel _released;
    private readonly RedisChannel _paused;
    private readonly string _participant = Guid.NewGuid().ToString("N");
    private long _roundTrips;

    private QuotaStore(QuotaAddress address, ConnectionMultiplexer redis)
    {
        Address = address;
        _redis = redis;
        _database = redis.GetDatabase(address.Database);
        var prefix = address.KeyPrefix;
        _slotsKey = [prefix + "slots"];
        _pausesKey = [prefix + "pauses"];
        _limitKey = prefix + "limit";
        _acquireKeys = [prefix + "slots", prefix + "next-start", prefix + "pauses", _limitKey, prefix + "waiting", prefix + "waiting-seen"];
        _released = RedisChannel.Literal(prefix + "released");
        _paused = RedisChannel.Literal(prefix + "paused");
    }

    public QuotaAddress Address { get; }

    /// <summary>Requests this process sent to the store, replies awaited or not.</summary>
    public long RoundTrips => Interlocked.Read(ref _roundTrips);

    /// <summary>
    /// Connects and subscribes to released slots and paused hosts; <paramref name="onReleased"/> and
    /// <paramref name="onPaused"/> (host, time left) run on the client's threads.
    /// </summary>
    /// <exception cref="SharedQuotaException">The store cannot be reached (<see cref="SharedQuotaErrorIds.Unavailable"/>), the address masked in the message.</exception>
    public static QuotaStore Connect(QuotaAddress address, Action onReleased, TimeSpan timeout, Action<string, TimeSpan>? onPaused = null)
    {
        var options = new ConfigurationOptions
        {
            EndPoints = { { address.Host, address.Port } },
            User = address.User,
            Password = address.Password,
            Ssl = address.Tls,
            DefaultDatabase = address.Database,
            AbortOnConnectFail = true,
            ConnectRetry = 1,
            ConnectTimeout = (int)timeout.TotalMilliseconds,
            AsyncTimeout = (int)timeout.TotalMilliseconds,
            SyncTimeout = (int)timeout.TotalMilliseconds,
            BacklogPolicy = BacklogPolicy.FailFast,
            ClientName = "BatchRequest",
        };
        ConnectionMultiplexer? redis = null;
        try
        {
            var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            redis = ConnectionMultiplexer.Connect(options);
            var store = new QuotaStore(address, redis);
            var subscriber = redis.GetSubscriber();
            Subscribe(subscriber, store._released, (_, _) => onReleased(), deadline);
            store.Count(1);
            if (onPaused is not null)
            {
                Subscribe(subscriber, store._paused, (_, message) => OnPaused(message, onPaused), deadline);
                store.Count(1);
            }

            // A first script proves the server runs them and that the password, if any, was right.
            store._database.ScriptEvaluate(QuotaScripts.Renew, store._slotsKey, [(RedisValue)address.Lease.TotalMilliseconds]);
            store.Count(1);
            return store;
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            redis?.Dispose();
            throw Unavailable(address, exception);
        }
    }

    // On a loaded machine Connect can come back before the subscription connection is up, and with FailFast a
    // subscribe then fails at once: ask again until the connection's own timeout is spent.
    private static void Subscribe(ISubscriber subscriber, RedisChannel channel, Action<RedisChannel, RedisValue> handler, long deadline)
    {
        while (true)
        {
            try
            {
                subscriber.Subscribe(channel, handler);
                return;
            }
            catch (RedisConnectionException) when (Stopwatch.GetTimestamp() < deadline)
            {
                Thread.Sleep(20);
            }
        }
    }

    // "ms host", as the pause script publishes it.
    private static void OnPaused(RedisValue message, Action<string, TimeSpan> onPaused)
    {
        var text = message.ToString();
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        if (space > 0 && long.TryParse(text.AsSpan(0, space), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms))
        {
            onPaused(text[(space + 1)..], TimeSpan.FromMilliseconds(ms));
        }
    }

    /// <summary>The error of a store that cannot be reached, naming it without its secrets.</summary>
    public static SharedQuotaException Unavailable(QuotaAddress address, Exception exception) =>
        new(SharedQuotaErrorIds.Unavailable, Text.Format(Messages.SharedThrottleUnavailable, address, FirstSentence(exception.Message)), exception);

    // The client's messages go on with advice about its own settings, which are not the user's to change.
    private static string FirstSentence(string message) =>
        message.IndexOf(". ", StringComparison.Ordinal) is var end and > 0 ? message[..(end + 1)] : message;

    /// <summary>
    /// Tries to lease a slot for <paramref name="host"/> for each of <paramref name="leases"/>, as many as are free
    /// for this participant, in one round trip.
    /// </summary>
    /// <param name="spacing">The time between two starts the rate asks for; null for no rate.</param>
    public async Task<AcquireResult> TryAcquireAsync(IReadOnlyList<string> leases, int limit, string host, TimeSpan? spacing)
    {
        Count(1);
        var arguments = new RedisValue[leases.Count + 5];
        arguments[0] = Address.Lease.TotalMilliseconds;
        arguments[1] = limit;
        arguments[2] = spacing?.TotalMilliseconds ?? 0;
        arguments[3] = host;
        arguments[4] = _participant;
        for (var i = 0; i < leases.Count; i++)
        {
            arguments[i + 5] = leases[i];
        }

        var reply = (RedisResult[])(await _database.ScriptEvaluateAsync(QuotaScripts.Acquire, _acquireKeys, arguments).ConfigureAwait(false))!;
        var granted = (int)(long)reply[0];
        if (granted == 0)
        {
            var paused = (long)reply[1];
            return new AcquireResult([], paused < 0 ? null : TimeSpan.FromMilliseconds(paused), 0);
        }

        var starts = new TimeSpan[granted];
        for (var i = 0; i < granted; i++)
        {
            starts[i] = TimeSpan.FromMilliseconds((long)reply[i + 2]);
        }

        return new AcquireResult(starts, null, (int)(long)reply[1]);
    }

    /// <summary>Gives a slot back without waiting for the reply: a lost one ends with its lease.</summary>
    public void Release(string lease)
    {
        Count(1);
        Unawaited(() => _database.ScriptEvaluateAsync(QuotaScripts.Release, _slotsKey, [lease, _released.ToString()], CommandFlags.FireAndForget));
    }

    /// <summary>Extends the leases this process holds, in one round trip.</summary>
    public async Task RenewAsync(IReadOnlyCollection<string> leases)
    {
        Count(1);
        var values = new RedisValue[leases.Count + 1];
        values[0] = Address.Lease.TotalMilliseconds;
        var i = 1;
        foreach (var lease in leases)
        {
            values[i++] = lease;
        }

        await _database.ScriptEvaluateAsync(QuotaScripts.Renew, _slotsKey, values).ConfigureAwait(false);
    }

    /// <summary>Pauses <paramref name="host"/> for every participant (a Retry-After one of them was given), and tells them.</summary>
    public async Task PauseAsync(string host, TimeSpan delay)
    {
        Count(1);
        await _database.ScriptEvaluateAsync(QuotaScripts.Pause, _pausesKey, [host, Math.Ceiling(delay.TotalMilliseconds), _paused.ToString()]).ConfigureAwait(false);
    }

    /// <summary>Shares the concurrency limit an adaptive participant found, without waiting; the latest word counts, for ten minutes.</summary>
    public void ShareLimit(int limit)
    {
        Count(1);
        Unawaited(() => _database.StringSetAsync(_limitKey, limit, TimeSpan.FromMinutes(10), flags: CommandFlags.FireAndForget));
    }

    // A command sent without waiting that cannot even be sent costs only what the lease and the outage wait already
    // cover: a release lost ends with its lease, and the next acquire decides whether the batch may go on.
    private static void Unawaited(Func<Task> send)
    {
        try
        {
            _ = send();
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException or ObjectDisposedException)
        {
        }
    }

    // The releases sent without waiting go out before the connection closes, rather than waiting out their leases.
    public void Dispose()
    {
        _redis.Close(allowCommandsToComplete: true);
        _redis.Dispose();
    }

    private void Count(long roundTrips) => Interlocked.Add(ref _roundTrips, roundTrips);
}

using System;
using System.Collections.Generic;

namespace BatchRequest.Engine.Running;

/// <summary>
/// Releases items in sequence order although they arrive in any order. Holds only the items that wait for an
/// earlier one; the caller bounds that number by limiting how far ahead of the oldest unreleased item it sends.
/// </summary>
public sealed class ReorderBuffer<T>
{
    private readonly SortedDictionary<long, T> _waiting = new();
    private readonly Action<T> _release;
    private readonly object _gate = new();
    private long _next;

    /// <param name="release">Called in sequence order, under the buffer's lock; must not block.</param>
    public ReorderBuffer(Action<T> release) => _release = release;

    /// <summary>Number of items held back.</summary>
    public int Waiting
    {
        get
        {
            lock (_gate)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>Takes item number <paramref name="sequence"/> (0-based, each exactly once) and releases what is ready.</summary>
    public void Add(long sequence, T item)
    {
        lock (_gate)
        {
            if (sequence < _next || _waiting.ContainsKey(sequence))
            {
                throw new ArgumentException($"Sequence number {sequence} was already added.", nameof(sequence));
            }

            _waiting.Add(sequence, item);
            while (_waiting.TryGetValue(_next, out var ready))
            {
                _waiting.Remove(_next);
                _next++;
                _release(ready);
            }
        }
    }
}

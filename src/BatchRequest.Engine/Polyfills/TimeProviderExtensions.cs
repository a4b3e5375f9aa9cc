using System;
using System.Threading;
using System.Threading.Tasks;

namespace BatchRequest.Engine;

/// <summary>One spelling of "delay on this clock" for both target frameworks.</summary>
internal static class TimeProviderExtensions
{
    public static Task Delay(this TimeProvider time, TimeSpan delay, CancellationToken cancellationToken) =>
#if NET8_0_OR_GREATER
        Task.Delay(delay, time, cancellationToken);
#else
        TimeProviderTaskExtensions.Delay(time, delay, cancellationToken);
#endif
}

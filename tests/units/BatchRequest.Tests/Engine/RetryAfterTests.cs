using BatchRequest.Engine.Sending;

namespace BatchRequest.Tests.Engine;

public sealed class RetryAfterTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("1", 1)]
    [InlineData("120", 120)]
    [InlineData(" 2.5 ", 2.5)]
    [InlineData("Wed, 25 Nov 2026 12:00:30 GMT", 30)]
    [InlineData("Wed, 25 Nov 2026 11:00:00 GMT", 0)]
    public void Parse_ValidValue_GivesDelay(string value, double expectedSeconds)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["retry-after"] = value };
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), RetryAfter.Parse(headers, Now));
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-5")]
    [InlineData("")]
    [InlineData("-99999999999999")]
    [InlineData("1e5")]
    [InlineData("Infinity")]
    [InlineData("NaN")]
    [InlineData("1.2.3")]
    [InlineData(".")]
    [InlineData("+5")]
    [InlineData("5 s")]
    public void Parse_MalformedValue_GivesNull(string value)
    {
        var headers = new Dictionary<string, string> { ["Retry-After"] = value };
        Assert.Null(RetryAfter.Parse(headers, Now));
    }

    [Theory]
    [InlineData("99999999999999")]
    [InlineData("922337203686")]
    [InlineData("99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999")]
    public void Parse_HugeValue_GivesADelayLongerThanAnyAllowed(string value)
    {
        // -MaximumRetryAfterSec allows at most a day; a demand too long for TimeSpan is still a demand to wait.
        var headers = new Dictionary<string, string> { ["Retry-After"] = value };
        Assert.Equal(TimeSpan.MaxValue, RetryAfter.Parse(headers, Now));
    }

    [Fact]
    public void Parse_NoHeader_GivesNull() => Assert.Null(RetryAfter.Parse(new Dictionary<string, string>(), Now));
}

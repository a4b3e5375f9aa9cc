using BatchRequest.Engine.Sending;
using BatchRequest.Model.Requests;
using BatchRequest.Model.Results;

namespace BatchRequest.Tests.Engine;

/// <summary>What is refused before it goes out: secret headers over http.</summary>
[Collection(LoopbackCollection.Name)]
public sealed class SendPolicyTests
{
    private readonly LoopbackFixture _loopback;

    public SendPolicyTests(LoopbackFixture loopback) => _loopback = loopback;

    [Theory]
    [InlineData("Authorization", null)]
    [InlineData("x-api-key", null)]
    [InlineData("Cookie", null)]
    [InlineData("X-Custom-Secret", "X-Custom-Secret")]
    public async Task Send_SecretHeaderOfTheRecordOverHttp_IsNotSent(string header, string? secretHeader)
    {
        var id = "h-" + header;
        var options = new SenderOptions { SecretHeaders = secretHeader is null ? [] : [secretHeader] };
        using var sender = new RequestSender(options);
        var record = new RequestRecord(id, "GET", new Uri(_loopback.Server.BaseUri, $"echo?id={id}"))
        {
            Headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { [header] = "s3cr3t" },
        };

        var result = await sender.SendAsync(record, CancellationToken.None);

        Assert.Equal((BatchStatus.NotSent, ErrorKind.InsecureAuthentication, 0), (result.Status, result.ErrorKind, result.Attempts));
        Assert.Equal(0, Arrivals(id));
    }

    [Fact]
    public async Task Send_SecretCommonHeaderOverHttp_IsNotSent()
    {
        var options = new SenderOptions { CommonHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer s3cr3t" } };
        using var sender = new RequestSender(options);
        var result = await sender.SendAsync(Get(_loopback.Server.BaseUri, "echo?id=h-common"), CancellationToken.None);

        Assert.Equal((BatchStatus.NotSent, ErrorKind.InsecureAuthentication), (result.Status, result.ErrorKind));
        Assert.Equal(0, Arrivals("h-common"));
    }

    [Fact]
    public async Task Send_SecretHeaderOverHttpWithAllowUnencryptedAuthentication_IsSent()
    {
        var options = new SenderOptions
        {
            AllowUnencryptedAuthentication = true,
            CommonHeaders = new Dictionary<string, string> { ["X-Api-Key"] = "k-1" },
        };
        using var sender = new RequestSender(options);
        var result = await sender.SendAsync(Get(_loopback.Server.BaseUri, "echo?id=h-allowed"), CancellationToken.None);

        Assert.Equal(BatchStatus.Succeeded, result.Status);
        Assert.Equal("k-1", _loopback.Server.Stats.Ledger.Single(a => a.Id == "h-allowed").ApiKey);
    }

    private int Arrivals(string id) => _loopback.Server.Stats.Ledger.Count(a => a.Id == id);

    private static RequestRecord Get(Uri baseUri, string path) => new(path, "GET", new Uri(baseUri, path));
}

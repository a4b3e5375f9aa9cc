using BatchRequest.Engine.Security;
using BatchRequest.Engine.Sending;
using BatchRequest.Model.Requests;
using BatchRequest.Model.Results;

namespace BatchRequest.Tests.Engine;

/// <summary>What is refused before it goes out: hosts and ports outside -AllowedHost, secret headers over http.</summary>
[Collection(LoopbackCollection.Name)]
public sealed class SendPolicyTests
{
    private readonly LoopbackFixture _loopback;

    public SendPolicyTests(LoopbackFixture loopback) => _loopback = loopback;

    private int Port => _loopback.Server.BaseUri.Port;

    private int SecondPort => _loopback.Server.SecondBaseUri.Port;

    [Fact]
    public async Task Send_AllowedHostWithItsPort_IsSent()
    {
        using var sender = new RequestSender(new SenderOptions { AllowedHosts = [$"127.0.0.1:{Port}"] });
        var result = await sender.SendAsync(Get(_loopback.Server.BaseUri, "echo?id=p1"), CancellationToken.None);

        Assert.Equal(BatchStatus.Succeeded, result.Outcome);
    }

    [Fact]
    public async Task Send_AllowedHostWithAnotherPort_IsNotSent()
    {
        using var sender = new RequestSender(new SenderOptions { AllowedHosts = [$"127.0.0.1:{SecondPort}"] });
        var result = await sender.SendAsync(Get(_loopback.Server.BaseUri, "echo?id=p2"), CancellationToken.None);

        Assert.Equal((BatchStatus.NotSent, ErrorKind.HostNotAllowed), (result.Outcome, result.Kind));
        Assert.Contains($"127.0.0.1:{Port}", result.Error);
        Assert.Equal(0, Arrivals("p2"));
    }

    [Fact]
    public async Task Send_AllowedHostWithoutPort_AllowsEveryPort()
    {
        using var sender = new RequestSender(new SenderOptions { AllowedHosts = ["127.0.0.1"] });
        var first = await sender.SendAsync(Get(_loopback.Server.BaseUri, "echo?id=p3"), CancellationToken.None);
        var second = await sender.SendAsync(Get(_loopback.Server.SecondBaseUri, "echo?id=p4"), CancellationToken.None);

        Assert.Equal((BatchStatus.Succeeded, BatchStatus.Succeeded), (first.Outcome, second.Outcome));
    }

    [Fact]
    public async Task Send_RedirectToAPortOutsideAllowedHost_IsRefusedAndTheOtherPortNeverContacted()
    {
        var options = new SenderOptions { AllowedHosts = [$"127.0.0.1:{Port}"], FollowCrossOriginRedirect = true };
        using var sender = new RequestSender(options);
        var target = Uri.EscapeDataString(new Uri(_loopback.Server.SecondBaseUri, "echo?id=p5").AbsoluteUri);
        var result = await sender.SendAsync(Get(_loopback.Server.BaseUri, $"redirect/302?id=p5&to={target}"), CancellationToken.None);

        Assert.Equal(ErrorKind.HostNotAllowed, result.Kind);
        Assert.Equal(1, Arrivals("p5"));
        Assert.DoesNotContain(_loopback.Server.Stats.Ledger, a => a.Id == "p5" && a.Host == _loopback.Server.SecondBaseUri.Authority);
    }

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

        Assert.Equal((BatchStatus.NotSent, ErrorKind.InsecureAuthentication, 0), (result.Outcome, result.Kind, result.Attempts));
        Assert.Equal(0, Arrivals(id));
    }

    [Fact]
    public async Task Send_SecretCommonHeaderOverHttp_IsNotSent()
    {
        var options = new SenderOptions { CommonHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer s3cr3t" } };
        using var sender = new RequestSender(options);
        var result = await sender.SendAsync(Get(_loopback.Server.BaseUri, "echo?id=h-common"), CancellationToken.None);

        Assert.Equal((BatchStatus.NotSent, ErrorKind.InsecureAuthentication), (result.Outcome, result.Kind));
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

        Assert.Equal(BatchStatus.Succeeded, result.Outcome);
        Assert.Equal("k-1", _loopback.Server.Stats.Ledger.Single(a => a.Id == "h-allowed").ApiKey);
    }

    [Theory]
    [InlineData("api.example", "https://api.example:8443/x", true)]
    [InlineData("API.Example:443", "https://api.example/x", true)]
    [InlineData("api.example:80", "http://api.example/x", true)]
    [InlineData("api.example:80", "http://api.example:8080/x", false)]
    [InlineData("api.example:443", "http://api.example/x", false)]
    [InlineData("api.example:abc", "http://api.example/x", false)]
    [InlineData("api.example:99999", "http://api.example/x", false)]
    [InlineData("other.example:80", "http://api.example/x", false)]
    [InlineData("[::1]:8080", "http://[::1]:8080/x", true)]
    [InlineData("[::1]:8080", "http://[::1]:8081/x", false)]
    [InlineData("[::1]", "http://[::1]:8081/x", true)]
    [InlineData("::1", "http://[::1]:8081/x", true)]
    public void HostAllowList_HostAllowsEveryPort_HostAndPortOnlyThatOne(string entry, string uri, bool allowed) =>
        Assert.Equal(allowed, new HostAllowList([entry]).Allows(new Uri(uri)));

    private int Arrivals(string id) => _loopback.Server.Stats.Ledger.Count(a => a.Id == id);

    private static RequestRecord Get(Uri baseUri, string path) => new(path, "GET", new Uri(baseUri, path));
}

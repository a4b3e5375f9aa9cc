using BatchRequest.Engine.Requests;
using BatchRequest.Engine.Sending;
using BatchRequest.Model.Results;

namespace BatchRequest.Tests.Engine;

public sealed class FailureClassifierTests
{
    [Theory]
    [InlineData(429, false, true)]
    [InlineData(429, true, true)]
    [InlineData(503, true, true)]
    [InlineData(503, false, false)]
    [InlineData(500, true, true)]
    [InlineData(502, true, true)]
    [InlineData(504, true, true)]
    [InlineData(408, true, true)]
    [InlineData(408, false, false)]
    [InlineData(400, true, false)]
    [InlineData(401, true, false)]
    [InlineData(404, true, false)]
    [InlineData(422, true, false)]
    [InlineData(501, true, false)]
    [InlineData(505, true, false)]
    public void ShouldRetry_StatusCode_FollowsPolicy(int statusCode, bool mayResend, bool expected) =>
        Assert.Equal(expected, FailureClassifier.ShouldRetry(statusCode, mayResend));

    [Theory]
    [InlineData(ErrorKind.ConnectFailed, false, true)]
    [InlineData(ErrorKind.DnsFailure, false, true)]
    [InlineData(ErrorKind.Timeout, true, true)]
    [InlineData(ErrorKind.Timeout, false, false)]
    [InlineData(ErrorKind.ConnectionReset, true, true)]
    [InlineData(ErrorKind.ConnectionReset, false, false)]
    [InlineData(ErrorKind.TlsFailure, true, false)]
    [InlineData(ErrorKind.ResponseTooLarge, true, false)]
    [InlineData(ErrorKind.Canceled, true, false)]
    public void ShouldRetry_TransportFailure_FollowsPolicy(ErrorKind kind, bool mayResend, bool expected) =>
        Assert.Equal(expected, FailureClassifier.ShouldRetry(kind, mayResend));

    [Theory]
    [InlineData("GET", true)]
    [InlineData("HEAD", true)]
    [InlineData("OPTIONS", true)]
    [InlineData("PUT", true)]
    [InlineData("DELETE", true)]
    [InlineData("POST", false)]
    [InlineData("PATCH", false)]
    public void IsIdempotent_Method_MatchesRfc(string method, bool expected) =>
        Assert.Equal(expected, ResendRule.IsIdempotent(method));

    [Fact]
    public void KindOf_SocketRefusedInsideHttpRequestException_IsConnectFailed()
    {
        var refused = new HttpRequestException(
            "refused",
            new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));
        Assert.Equal(ErrorKind.ConnectFailed, FailureClassifier.KindOf(refused));
    }
}

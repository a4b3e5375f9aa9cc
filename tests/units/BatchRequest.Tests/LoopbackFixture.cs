using BatchRequest.TestServer;

namespace BatchRequest.Tests;

/// <summary>One loopback server shared by the tests of the collection, which run one at a time.</summary>
public sealed class LoopbackFixture : IAsyncLifetime
{
    public LoopbackServer Server { get; private set; } = null!;

    public Uri Url(string pathAndQuery) => new(Server.BaseUri, pathAndQuery);

    public async Task InitializeAsync() => Server = await LoopbackServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class LoopbackCollection : ICollectionFixture<LoopbackFixture>
{
    public const string Name = "Loopback server";
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace BatchRequest.Tests;

/// <summary>
/// A real redis-server on a free loopback port, without persistence, for the tests of the shared quota's scripts.
/// Missing, it is installed from its Debian package when the tests run as root; otherwise the tests fail naming it.
/// </summary>
public sealed class RedisFixture : IDisposable
{
    private const string Package = "redis-server";
    private readonly Process _server;
    private readonly string _folder = Directory.CreateTempSubdirectory("batchrequest-redis-").FullName;

    public RedisFixture()
    {
        var path = Find() ?? Install();
        Port = FreePort();
        var start = new ProcessStartInfo(path) { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var argument in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _folder })
        {
            start.ArgumentList.Add(argument);
        }

        _server = Process.Start(start)!;
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!Accepts(Port))
        {
            if (_server.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"redis-server did not accept connections on 127.0.0.1:{Port} within 15 s.");
            }

            Thread.Sleep(50);
        }
    }

    public int Port { get; }

    /// <summary>The address of a quota of this server: a fresh name per test keeps the tests apart.</summary>
    public string Quota(string name, string query = "") => $"redis://127.0.0.1:{Port}/{name}{query}";

    public void Dispose()
    {
        if (!_server.HasExited)
        {
            _server.Kill();
            _server.WaitForExit(5000);
        }

        _server.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private static string? Find() =>
        new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server" }.FirstOrDefault(File.Exists);

    private static string Install()
    {
        var hint = $"The shared quota tests need redis-server from the Debian package '{Package}': run 'apt-get install -y {Package}' as root.";
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/apt-get") || Environment.UserName != "root")
        {
            throw new InvalidOperationException(hint + " This process cannot install it (it needs Linux with apt-get, as root).");
        }

        foreach (var arguments in new[] { "-o DPkg::Lock::Timeout=300 update", $"-o DPkg::Lock::Timeout=300 install -y {Package}" })
        {
            var start = new ProcessStartInfo("/usr/bin/apt-get", arguments) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
            using var apt = Process.Start(start)!;
            apt.StandardOutput.ReadToEnd();
            var errors = apt.StandardError.ReadToEnd();
            apt.WaitForExit();
            if (apt.ExitCode != 0)
            {
                throw new InvalidOperationException($"{hint} 'apt-get {arguments}' failed with exit code {apt.ExitCode}: {errors}");
            }
        }

        return Find() ?? throw new InvalidOperationException(hint + " The package was installed but provides no redis-server.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool Accepts(int port)
    {
        using var client = new TcpClient();
        try
        {
            return client.ConnectAsync(IPAddress.Loopback, port).Wait(1000);
        }
        catch (AggregateException)
        {
            return false;
        }
    }
}

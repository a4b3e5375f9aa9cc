using System.Diagnostics;
using System.Globalization;
using BatchRequest.TestServer;

// Runs the loopback server as a child process: prints its http, second http, https, silent-close and client-certificate
// addresses, one per line (the first line alone is enough for most callers), then serves until the parent process
// (--parent-pid) exits or the process is stopped.
var port = ArgValue("--port") is { } portText ? int.Parse(portText, CultureInfo.InvariantCulture) : 0;
await using var server = await LoopbackServer.StartAsync(port);
Console.WriteLine(server.BaseUri);
Console.WriteLine(server.SecondBaseUri);
Console.WriteLine(server.HttpsBaseUri);
Console.WriteLine(server.SilentCloseBaseUri);
Console.WriteLine(server.ClientCertificateBaseUri);
Console.Out.Flush();

await (ArgValue("--parent-pid") is { } parentText
    ? Process.GetProcessById(int.Parse(parentText, CultureInfo.InvariantCulture)).WaitForExitAsync()
    : Task.Delay(Timeout.Infinite));

string? ArgValue(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

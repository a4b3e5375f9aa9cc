// GETs every URL of a file with one HttpClient, T requests at a time on at most T connections, each answer read
// to its end as text. Prints one JSON line: {"count", "ok" (2xx answers), "failed", "elapsedSeconds" (the batch
// alone, from the first request to the last answer)}.
//
//     dotnet HttpClientBatch.dll URL_FILE T
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

if (args.Length != 2 || !int.TryParse(args[1], out var limit) || limit < 1)
{
    Console.Error.WriteLine("usage: HttpClientBatch URL_FILE T");
    return 2;
}

var urls = File.ReadAllLines(args[0]).Where(line => line.Length > 0).ToArray();
using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = limit, UseProxy = false });
var next = -1;
var ok = 0;
var failed = 0;
var clock = Stopwatch.StartNew();

// T workers take the next URL as they finish one, the way the module's workers take records.
await Task.WhenAll(Enumerable.Range(0, limit).Select(_ => Task.Run(async () =>
{
    int index;
    while ((index = Interlocked.Increment(ref next)) < urls.Length)
    {
        try
        {
            using var response = await client.GetAsync(urls[index]);
            await response.Content.ReadAsStringAsync();
            Interlocked.Increment(ref response.IsSuccessStatusCode ? ref ok : ref failed);
        }
        catch (HttpRequestException)
        {
            Interlocked.Increment(ref failed);
        }
    }
})));

clock.Stop();
Console.WriteLine(JsonSerializer.Serialize(new { count = urls.Length, ok, failed, elapsedSeconds = clock.Elapsed.TotalSeconds }));
return 0;

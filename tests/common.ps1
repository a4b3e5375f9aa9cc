# Shared by the Pester tests, build.ps1's demo and the benchmark. Defines functions only; dot-source it.

$script:RepoRoot = Split-Path -Parent $PSScriptRoot

function Get-DotnetPath {
    # Under `dotnet pwsh` the process itself is the dotnet host.
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') { return $process }
    (Get-Command dotnet -CommandType Application -ErrorAction Stop | Select-Object -First 1).Source
}

function Get-PwshCommand {
    <# The command line that starts a child pwsh like this one: a program and the arguments before its own. #>
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') {
        return @($process, [Reflection.Assembly]::GetEntryAssembly().Location)
    }
    @($process)
}

function Get-BuiltModulePath {
    if ($env:BATCHREQUEST_MODULE) { return $env:BATCHREQUEST_MODULE }
    Join-Path $script:RepoRoot 'out/BatchRequest/BatchRequest.psd1'
}

function Start-TestServer {
    <# Starts the loopback server as a child process and returns its process and base URIs. #>
    $dll = $env:BATCHREQUEST_TEST_SERVER
    if (-not $dll) { $dll = Join-Path $script:RepoRoot 'out/testserver/BatchRequest.TestServer.dll' }
    $startInfo = [Diagnostics.ProcessStartInfo]::new((Get-DotnetPath))
    foreach ($argument in @($dll, '--parent-pid', $PID)) { $startInfo.ArgumentList.Add([string]$argument) }
    $startInfo.RedirectStandardOutput = $true
    $startInfo.UseShellExecute = $false
    $process = [Diagnostics.Process]::Start($startInfo)
    # It prints five addresses: http, a second http listener (another origin), https with a self-signed certificate,
    # a raw listener that reads each request and closes the connection gracefully without answering, and https that
    # requires a client certificate.
    $addresses = foreach ($line in 1..5) {
        $reading = $process.StandardOutput.ReadLineAsync()
        if (-not $reading.Wait([TimeSpan]::FromSeconds(30)) -or -not $reading.Result) {
            $process.Kill()
            throw "The test server did not report its addresses within 30 s."
        }
        [uri]$reading.Result
    }
    [pscustomobject]@{
        Process            = $process
        BaseUri            = $addresses[0]
        SecondBaseUri      = $addresses[1]
        HttpsBaseUri       = $addresses[2]
        SilentCloseBaseUri = $addresses[3]
        ClientCertificateBaseUri = $addresses[4]
    }
}

function Stop-TestServer {
    param([Parameter(Mandatory)] $Server)
    if (-not $Server.Process.HasExited) {
        $Server.Process.Kill()
        $null = $Server.Process.WaitForExit(5000)
    }
    $Server.Process.Dispose()
}

function Reset-TestServer {
    param([Parameter(Mandatory)] $Server)
    $null = Invoke-RestMethod -Method Post -Uri "$($Server.BaseUri)stats/reset"
}

function Get-TestServerStats {
    param([Parameter(Mandatory)] $Server)
    Invoke-RestMethod -Uri "$($Server.BaseUri)stats"
}

function Get-TestServerLedger {
    param([Parameter(Mandatory)] $Server)
    # Invoke-RestMethod emits a JSON array as one object; returning it from a function enumerates it.
    $arrivals = Invoke-RestMethod -Uri "$($Server.BaseUri)ledger"
    $arrivals
}

function Wait-TestServerQuiet {
    <#
    Waits until every connection that carried a request under test is closed, and returns the requests served.
    Called once the batch's command has returned (its connection pool disposed), it proves that nothing more can
    arrive without sleeping: a later request would need a connection, and the pool that could open one is gone.
    #>
    param([Parameter(Mandatory)] $Server, [double] $TimeoutSec = 10)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ($true) {
        $stats = Get-TestServerStats $Server
        if ($stats.openRequestConnections -eq 0 -and $stats.inFlight -eq 0) { return $stats.served }
        if ([DateTime]::UtcNow -gt $deadline) {
            throw "The batch's connections to the test server were still open $TimeoutSec s after its command returned ($($stats.openRequestConnections) open, $($stats.inFlight) in flight)."
        }
        Start-Sleep -Milliseconds 20
    }
}

function New-RequestFile {
    <# Writes a JSON array of request objects to a file and returns its path. #>
    param(
        [Parameter(Mandatory)] [string] $Path,
        [Parameter(Mandatory)] [object[]] $Records
    )
    ConvertTo-Json -InputObject $Records -Depth 5 | Set-Content -LiteralPath $Path -Encoding utf8NoBOM
    $Path
}

function Invoke-KilledBatch {
    <#
    Starts a child pwsh that sends Count POST records to a 20 ms endpoint at -ThrottleLimit 40 with a journal
    (tests/Send-JournaledBatch.ps1), and kills it (Stop-Process -Force, SIGKILL on Unix) once KillAfter have reached
    the server, counted since the server's last reset. Returns the request file and the journal.
    #>
    param(
        [Parameter(Mandatory)] $Server,
        [Parameter(Mandatory)] [string] $Folder,
        [Parameter(Mandatory)] [string] $Name,
        [int] $Count = 2000,
        [int] $KillAfter = 1000,
        [switch] $Keyed
    )
    $base = $Server.BaseUri
    $records = foreach ($i in 1..$Count) { @{ id = "$Name$i"; method = 'POST'; uri = "$($base)delay/20?id=$Name$i"; body = @{ n = $i } } }
    $file = New-RequestFile -Path (Join-Path $Folder "$Name.json") -Records $records
    $journal = Join-Path $Folder "$Name.ndjson"

    $pwsh = @(Get-PwshCommand)
    $start = [Diagnostics.ProcessStartInfo]::new($pwsh[0])
    $arguments = @($pwsh | Select-Object -Skip 1) + @(
        '-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'Send-JournaledBatch.ps1'),
        '-ModulePath', (Get-BuiltModulePath), '-RequestFile', $file, '-JournalPath', $journal)
    if ($Keyed) { $arguments += @('-IdempotencyKeyHeader', 'Idempotency-Key') }
    foreach ($argument in $arguments) { $start.ArgumentList.Add([string]$argument) }
    $start.UseShellExecute = $false
    $child = [Diagnostics.Process]::Start($start)
    try {
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        while ((Get-TestServerStats $Server).served -lt $KillAfter -and -not $child.HasExited -and [DateTime]::UtcNow -lt $deadline) {
            Start-Sleep -Milliseconds 10
        }
        $child.HasExited | Should -BeFalse -Because 'the batch must still be running when it is killed'
        Stop-Process -Id $child.Id -Force
        $child.WaitForExit()
    }
    finally {
        if (-not $child.HasExited) { $child.Kill() }
        $child.Dispose()
    }
    [pscustomobject]@{ File = $file; Journal = $journal }
}

. (Join-Path $PSScriptRoot 'services.ps1')

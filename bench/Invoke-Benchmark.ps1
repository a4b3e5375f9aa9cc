<#
.SYNOPSIS
    The benchmark of BatchRequest (issue #3, since widened to overload and cold start): side by side with its peers
    on the loopback test server, against a server that caps its concurrency, and the first batch of a fresh pwsh.
.DESCRIPTION
    Scenarios, at -ThrottleLimit T (40):
      A  N records (1,000) whose endpoint answers after L ms (50): time of each tool beside the bound N*L/T;
         BatchRequest also with -AdaptiveThrottle (ceiling T), beside the fixed throttle; and what Export-Csv's first
         use costs PowerShell in a fresh pwsh, nothing sent (bench/Measure-ExportCsvFirstUse.ps1).
      B  N records (10,000) answered at once: requests per second, the overhead of each tool.
      C  100,000 and 1,000,000 records streamed from NDJSON: peak working set of the pwsh process, throughput.
      D  Overload: N records (2,000) against /capped/10/100 (10 at once, 100 ms, 503 past that), -AdaptiveThrottle
         -ThrottleLimit 80 beside a fixed -ThrottleLimit 10, each ... | Export-Csv in a pwsh of its own: time beside
         N*L/cap, the share of attempts turned away, the limit settled on.
      S  Cold start: the first batch (100 records) in a fresh pwsh, ReadyToRun module beside an IL copy, alternating.
      R  Export-BatchReport of a generated journal of 1,000,000 records in a pwsh of its own: time, peak working
         set, report size (bench/ReportScenario.ps1).
      Q  One quota shared on Redis: SharedCount records at LatencyMs split over three processes with one
         -SharedThrottle of T, against one process with T; the store's round trips per request
         (bench/SharedQuotaScenario.ps1).
      (D, S and A's adaptive rows: bench/AdaptiveAndColdStart.ps1.)
    Peers: Python asyncio + aiohttp with Semaphore(T) (bench/peers/aiohttp_batch.py), curl --parallel
    --parallel-max T fed by a config file of URLs, hey -n N -c T as the raw ceiling of the machine,
    ForEach-Object -Parallel { Invoke-RestMethod } -ThrottleLimit T in the pinned pwsh (bench/peers/foreach-parallel.ps1),
    and the runtime's own HttpClient with T workers and no PowerShell (bench/peers/HttpClientBatch, built here): what
    the engine sends through, in a process as fresh as BatchRequest's own.
    The Debian packages of the peers (python3-aiohttp curl hey) are installed with apt-get when missing.

    BatchRequest runs the README's pipeline, Import-RequestFile | Invoke-BatchRequest | Export-Csv, twice per run:
    in this pwsh session, already warm (a Stopwatch around the pipeline), and as a process of its own
    (bench/Measure-BatchRequestProcess.ps1: the pipeline's own time and the whole process). After B's runs,
    Measure-ResultCost breaks the time per record down by stage and by property of the result. The peers
    are timed as whole processes; those that report the time of the batch alone (aiohttp, hey, ForEach-Object
    -Parallel, HttpClient) are shown with it too. Each run starts every tool once, in an order that rotates from run to run;
    the report gives medians over the runs, and ratios to the peers computed within each run, then their median.

    Through the server's stats and ledger it checks, for every run: requests in flight at most (exactly T
    expected for BatchRequest in A), connections that carried requests (never more than T), and that every record
    arrived exactly once. All traffic goes to the loopback server started here; every process is killed after
    -ProcessTimeoutSec.

    Writes -ResultsPath (bench/RESULTS.md). Needs a build first: dotnet pwsh ./build.ps1 build (or build.ps1 bench).
.EXAMPLE
    dotnet pwsh ./bench/Invoke-Benchmark.ps1 -Quick
    A smoke run: tiny counts, one run, to check that everything works. Its numbers are not the benchmark.
.EXAMPLE
    dotnet pwsh ./build.ps1 bench
    Builds, then runs the full benchmark (5 runs) on a quiet machine.
#>
[CmdletBinding()]
param(
    # Runs of every tool in every scenario; medians are taken over them.
    [ValidateRange(1, 50)] [int] $Runs = 5,

    [ValidateRange(1, 300)] [int] $ThrottleLimit = 40,

    # Scenario A: records and the server's answer latency.
    [ValidateRange(1, 100000)] [int] $LatencyCount = 1000,
    [ValidateRange(1, 10000)] [int] $LatencyMs = 50,

    # Scenario B: records answered at once.
    [ValidateRange(1, 1000000)] [int] $OverheadCount = 10000,

    # Scenario C: sizes of the NDJSON files streamed through Import-RequestFile | Invoke-BatchRequest.
    # Lists may also be given as one comma-separated word, as a shell passes -StreamCounts 100000,1000000.
    [string[]] $StreamCounts = @('100000', '1000000'),

    # Scenario D (overload): records sent to /capped/OverloadCap/OverloadMs; the adaptive row's ceiling; retries
    # per record, enough that every record gets through.
    [ValidateRange(1, 100000)] [int] $OverloadCount = 2000,
    [ValidateRange(1, 1000)] [int] $OverloadCap = 10,
    [ValidateRange(1, 10000)] [int] $OverloadMs = 100,
    [ValidateRange(1, 1000)] [int] $OverloadCeiling = 80,
    [ValidateRange(0, 100)] [int] $OverloadRetryCount = 10,

    # Scenario Q (a quota shared on Redis): records at LatencyMs, enough that three pwsh start-ups do not hide
    # what the quota costs.
    [ValidateRange(3, 1000000)] [int] $SharedCount = 4000,

    # Scenario S (cold start): fresh processes of each module, IL and ReadyToRun, and the records of their batch.
    [ValidateRange(1, 100)] [int] $ColdStartRuns = 9,
    [ValidateRange(1, 100000)] [int] $ColdStartCount = 100,

    # Scenarios to run: A, B, C, D, S, R, Q.
    [string[]] $Scenario = @('A', 'B', 'C', 'D', 'S', 'R', 'Q'),

    # A smoke run: A 200 records, B 1,000, C 2,000 and 20,000, D 200, S 2 runs each, one run (each unless given explicitly).
    [switch] $Quick,

    [string] $ResultsPath = (Join-Path $PSScriptRoot 'RESULTS.md'),

    # Any process of the benchmark still running after this long is killed and its run counted as failed.
    [ValidateRange(10, 7200)] [int] $ProcessTimeoutSec = 900,

    # The server's ledger (one entry per request) is checked id by id up to this many records; above it only
    # the count of arrivals is compared (fetching a ledger of a million entries would dominate the run).
    [int] $LedgerLimit = 100000,

    # Do not apt-get install missing peers; the missing ones are left out of the report.
    [switch] $NoInstall
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$ProgressPreference = 'SilentlyContinue'
. (Join-Path $PSScriptRoot '../tests/common.ps1')
. (Join-Path $PSScriptRoot 'AdaptiveAndColdStart.ps1')
. (Join-Path $PSScriptRoot 'ReportScenario.ps1')
. (Join-Path $PSScriptRoot 'SharedQuotaScenario.ps1')
$Invariant = [Globalization.CultureInfo]::InvariantCulture

# pwsh -File hands "A,B" and "100000,1000000" over as single words (and would read the latter as one number).
$ScenarioNames = @($Scenario -split ',' | ForEach-Object { $_.Trim().ToUpperInvariant() } | Where-Object { $_ })
foreach ($name in $ScenarioNames) { if ($name -notin 'A', 'B', 'C', 'D', 'S', 'R', 'Q') { throw "Unknown scenario '$name': use A, B, C, D, S, R or Q." } }
$StreamSizes = @($StreamCounts -split ',' | Where-Object { $_.Trim() } | ForEach-Object { [int]::Parse($_.Trim(), $Invariant) })
if (@($StreamSizes | Where-Object { $_ -lt 1 }).Count) { throw 'Every -StreamCounts size must be at least 1.' }

if ($Quick) {
    # Tiny counts, one run; what is given explicitly still wins.
    if (-not $PSBoundParameters.ContainsKey('LatencyCount')) { $LatencyCount = 200 }
    if (-not $PSBoundParameters.ContainsKey('OverheadCount')) { $OverheadCount = 1000 }
    if (-not $PSBoundParameters.ContainsKey('StreamCounts')) { $StreamSizes = @(2000, 20000) }
    if (-not $PSBoundParameters.ContainsKey('OverloadCount')) { $OverloadCount = 200 }
    if (-not $PSBoundParameters.ContainsKey('ColdStartRuns')) { $ColdStartRuns = 2 }
    if (-not $PSBoundParameters.ContainsKey('Runs')) { $Runs = 1 }
}

$RepoRoot = Split-Path -Parent $PSScriptRoot
$WorkDir = Join-Path $RepoRoot 'out/bench'
$ModulePath = Get-BuiltModulePath
$Python = '/usr/bin/python3'   # Debian's, which sees python3-aiohttp; a python3 earlier on PATH may not.
$Peers = @{
    aiohttp = @{ Package = 'python3-aiohttp'; Present = { Test-Path $Python -PathType Leaf } }
    curl    = @{ Package = 'curl'; Present = { Get-Command curl -CommandType Application -ErrorAction Ignore } }
    hey     = @{ Package = 'hey'; Present = { Get-Command hey -CommandType Application -ErrorAction Ignore } }
}

#region Helpers

function Format-Number {
    param($Value, [string] $Format = '0.00')
    if ($null -eq $Value) { return '–' }
    ([double]$Value).ToString($Format, $Invariant)
}

function Get-Median {
    param([object[]] $Values)
    $sorted = @($Values | Where-Object { $null -ne $_ } | ForEach-Object { [double]$_ } | Sort-Object)
    if ($sorted.Count -eq 0) { return $null }
    $middle = [math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2) { return $sorted[$middle] }
    ($sorted[$middle - 1] + $sorted[$middle]) / 2
}

function Test-DebianPackage {
    param([string] $Name)
    $status = & dpkg-query -W -f '${Status}' $Name 2>$null
    $LASTEXITCODE -eq 0 -and $status -eq 'install ok installed'
}

function Get-DebianVersion {
    param([string] $Name)
    $version = & dpkg-query -W -f '${Version}' $Name 2>$null
    if ($LASTEXITCODE -eq 0 -and $version) { $version } else { $null }
}

function Install-PeerPackages {
    <# Installs the peers' Debian packages that are missing; returns the names of the peers that can run. #>
    $missing = @($Peers.Values | ForEach-Object { $_.Package } | Where-Object { -not (Test-DebianPackage $_) })
    if ($missing.Count -gt 0) {
        if ($NoInstall) {
            Write-Warning "Not installing $($missing -join ', ') (-NoInstall): those peers are left out."
        }
        else {
            Write-Host "Installing the peers' Debian packages: $($missing -join ', ')..."
            $env:DEBIAN_FRONTEND = 'noninteractive'
            & apt-get update -q | Out-Null
            if ($LASTEXITCODE -ne 0) { Write-Warning "apt-get update failed with exit code $LASTEXITCODE." }
            & apt-get install -y -q @missing | Out-Null
            if ($LASTEXITCODE -ne 0) { Write-Warning "apt-get install $($missing -join ' ') failed with exit code $LASTEXITCODE." }
        }
    }
    foreach ($name in $Peers.Keys | Sort-Object) {
        $peer = $Peers[$name]
        if ((Test-DebianPackage $peer.Package) -and (& $peer.Present)) { $name }
        else { Write-Warning "Peer $name is not available (Debian package $($peer.Package) not installed); it is left out." }
    }
}

function Invoke-TimedProcess {
    <# Runs a command to its end; returns its wall-clock time, exit code and output. Killed after -ProcessTimeoutSec. #>
    param([Parameter(Mandatory)] [string[]] $Command, [hashtable] $Environment = @{})
    $startInfo = [Diagnostics.ProcessStartInfo]::new($Command[0])
    foreach ($argument in @($Command | Select-Object -Skip 1)) { $startInfo.ArgumentList.Add($argument) }
    foreach ($name in $Environment.Keys) { $startInfo.Environment[$name] = $Environment[$name] }
    $startInfo.RedirectStandardOutput = $true
    $startInfo.RedirectStandardError = $true
    $startInfo.UseShellExecute = $false
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $process = [Diagnostics.Process]::Start($startInfo)
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEndAsync()
    $exited = $process.WaitForExit($ProcessTimeoutSec * 1000)
    $clock.Stop()
    if (-not $exited) {
        $process.Kill($true)
        $process.WaitForExit()
    }
    [pscustomobject]@{
        Seconds  = $clock.Elapsed.TotalSeconds
        ExitCode = if ($exited) { $process.ExitCode } else { $null }
        TimedOut = -not $exited
        StdOut   = $stdout.GetAwaiter().GetResult()
        StdErr   = $stderr.GetAwaiter().GetResult()
    }
    $process.Dispose()
}

function ConvertFrom-LastJsonLine {
    param([string] $Text)
    $line = ($Text -split "`n" | Where-Object { $_.Trim().StartsWith('{') } | Select-Object -Last 1)
    if ($line) { $line | ConvertFrom-Json } else { $null }
}

function New-ToolRun {
    <# What one run of one tool measured; $null where the tool does not tell. #>
    param($ProcessSeconds, $InProcessSeconds, $Ok, [string] $Problem, $Extra)
    [pscustomobject]@{
        ProcessSeconds   = $ProcessSeconds
        InProcessSeconds = $InProcessSeconds
        Ok               = $Ok
        Problem          = $Problem
        Extra            = $Extra
    }
}

function Get-ProcessProblem {
    param($Outcome)
    if ($Outcome.TimedOut) { return "killed after $ProcessTimeoutSec s" }
    if ($Outcome.ExitCode -ne 0) {
        # The first lines of its error output, without pwsh's colours.
        $detail = (($Outcome.StdErr -replace '\x1b\[[0-9;]*m', '').Trim() -split "`n" | Select-Object -First 3) -join ' '
        return "exit code $($Outcome.ExitCode): $detail"
    }
    $null
}

function Test-Arrivals {
    <# Compares the server's ledger with the ids sent: every one exactly once, nothing else. #>
    param($Server, [string] $IdPrefix, [int] $Count, $Stats)
    if ($Count -gt $LedgerLimit -or -not $IdPrefix) {
        # Only the count: above -LedgerLimit, or for hey, which sends one URL N times.
        return [pscustomobject]@{ Ok = ($Stats.served -eq $Count); Text = "$($Stats.served) of $Count (count only)"; FirstArrival = $null }
    }
    $seen = [Collections.Generic.Dictionary[string, int]]::new()
    $first = $null
    foreach ($arrival in Get-TestServerLedger $Server) {
        $time = [DateTimeOffset]$arrival.time
        if ($null -eq $first -or $time -lt $first) { $first = $time }
        $key = [string]$arrival.id
        $times = 0
        $null = $seen.TryGetValue($key, [ref]$times)
        $seen[$key] = $times + 1
    }
    $once = 0; $repeated = 0
    for ($i = 1; $i -le $Count; $i++) {
        $times = 0
        if ($seen.TryGetValue("$IdPrefix$i", [ref]$times)) {
            if ($times -eq 1) { $once++ } else { $repeated++ }
        }
    }
    $missing = $Count - $once - $repeated
    $foreign = $seen.Count - $once - $repeated
    $ok = $once -eq $Count -and $foreign -eq 0
    $text = if ($ok) { "$Count once" } else { "$once once, $repeated repeated, $missing missing, $foreign unknown" }
    [pscustomobject]@{ Ok = $ok; Text = $text; FirstArrival = $first }
}

function Invoke-ToolRun {
    <# One run of one tool against a freshly reset server, with what the server saw. #>
    param($Server, [string] $Tool, [hashtable] $Run, [int] $Count, [string] $IdPrefix, [int] $RunNumber)
    Reset-TestServer $Server
    $parameters = $Run.Parameters
    $measured = & $Run.Command @parameters
    $stats = Get-TestServerStats $Server
    $arrivals = Test-Arrivals -Server $Server -IdPrefix $IdPrefix -Count $Count -Stats $stats
    $line = "  run $RunNumber  {0,-30} process {1,7} s  batch {2,7} s  ok {3}/{4}  in flight {5}  connections {6}  {7}" -f $Tool,
        (Format-Number $measured.ProcessSeconds), (Format-Number $measured.InProcessSeconds), $measured.Ok, $Count,
        $stats.maxInFlight, $stats.connections, $arrivals.Text
    if ($measured.Problem) { $line += "  PROBLEM: $($measured.Problem)" }
    Write-Host $line
    [pscustomobject]@{
        Tool             = $Tool
        Run              = $RunNumber
        Count            = $Count
        ProcessSeconds   = $measured.ProcessSeconds
        InProcessSeconds = $measured.InProcessSeconds
        Ok               = $measured.Ok
        Problem          = $measured.Problem
        Extra            = $measured.Extra
        MaxInFlight      = [long]$stats.maxInFlight
        Connections      = [long]$stats.connections
        Served           = [long]$stats.served
        ArrivalsOk       = $arrivals.Ok
        ArrivalsText     = $arrivals.Text
        FirstArrival     = $arrivals.FirstArrival
    }
}

function Invoke-Rounds {
    <# Runs every tool once per run, rotating the order from run to run so that noise spreads over all of them. #>
    param($Server, [System.Collections.Specialized.OrderedDictionary] $Tools, [int] $Count, [string] $IdPrefix)
    $names = @($Tools.Keys)
    for ($run = 1; $run -le $Runs; $run++) {
        for ($k = 0; $k -lt $names.Count; $k++) {
            $name = $names[($k + $run - 1) % $names.Count]
            $prefix = if ($name -eq 'hey') { $null } else { $IdPrefix }
            Invoke-ToolRun -Server $Server -Tool $name -Run $Tools[$name] -Count $Count -IdPrefix $prefix -RunNumber $run
        }
    }
}

#endregion

#region Inputs

function New-BatchInputs {
    <# The same records for every tool: a request file, a list of URLs, a curl config file. #>
    param([string] $Name, [string[]] $Urls, [string] $IdPrefix)
    $records = for ($i = 0; $i -lt $Urls.Count; $i++) { @{ id = "$IdPrefix$($i + 1)"; uri = $Urls[$i] } }
    $curlConfig = foreach ($url in $Urls) { "url = `"$url`""; 'output = "/dev/null"' }
    $inputs = [pscustomobject]@{
        RequestFile = New-RequestFile -Path (Join-Path $WorkDir "$Name.json") -Records $records
        UrlFile     = Join-Path $WorkDir "$Name.urls"
        CurlConfig  = Join-Path $WorkDir "$Name.curl"
        Count       = $Urls.Count
    }
    [IO.File]::WriteAllLines($inputs.UrlFile, $Urls)
    [IO.File]::WriteAllLines($inputs.CurlConfig, [string[]]$curlConfig)
    $inputs
}

function New-NdjsonFile {
    <# One JSON request object per line, written without building the records in memory. #>
    param([string] $Path, [int] $Count, [uri] $BaseUri, [string] $IdPrefix)
    $writer = [IO.StreamWriter]::new($Path, $false, [Text.UTF8Encoding]::new($false), 1MB)
    try {
        for ($i = 1; $i -le $Count; $i++) {
            $writer.WriteLine('{"id":"' + $IdPrefix + $i + '","uri":"' + $BaseUri + 'status/200?id=' + $IdPrefix + $i + '"}')
        }
    }
    finally {
        $writer.Dispose()
    }
    $Path
}

#endregion

#region Tools: one function per peer, and BatchRequest twice

function Invoke-BatchRequestInSession {
    <# BatchRequest in this (warm) session: a Stopwatch around the README's pipeline, ending in Export-Csv. #>
    param([string] $RequestFile, [switch] $AdaptiveThrottle)
    $csv = Join-Path $WorkDir 'warm-session.csv'
    $clock = [Diagnostics.Stopwatch]::StartNew()
    Import-RequestFile -LiteralPath $RequestFile |
        Invoke-BatchRequest -ThrottleLimit $ThrottleLimit -AdaptiveThrottle:$AdaptiveThrottle -ErrorAction SilentlyContinue -InformationVariable information |
        Export-Csv -LiteralPath $csv
    $clock.Stop()
    $summary = $information | Where-Object { $_.Tags -contains 'BatchSummary' } | Select-Object -Last 1 -ExpandProperty MessageData
    New-ToolRun -InProcessSeconds $clock.Elapsed.TotalSeconds -Ok $(if ($summary) { $summary.Succeeded } else { 0 })
}

function Measure-ResultCost {
    <#
        Where the time per record of the README's pipeline goes, in this warm session: each stage is the pipeline
        up to it, so the differences are what each stage adds on the pipeline thread (best of -Runs, at least 3).
        Then Export-Csv on its own: of the results already collected, of objects with the same scalar values (the
        floor of Export-Csv), and the result's properties read one by one as Export-Csv reads them.
    #>
    param([string] $RequestFile, [int] $Count)
    $csv = Join-Path $WorkDir 'breakdown.csv'
    $batch = @{ ThrottleLimit = $ThrottleLimit; ErrorAction = 'SilentlyContinue' }
    $best = {
        param([scriptblock] $Work)
        $times = foreach ($k in 1..([math]::Max(3, $Runs))) {
            $clock = [Diagnostics.Stopwatch]::StartNew(); $null = & $Work; $clock.Elapsed.TotalSeconds
        }
        ($times | Measure-Object -Minimum).Minimum * 1e6 / $Count
    }
    $results = @(Import-RequestFile -LiteralPath $RequestFile | Invoke-BatchRequest @batch)
    $flat = foreach ($r in $results) {
        [pscustomobject]@{ Id = $r.Id; Status = $r.Status; StatusCode = $r.StatusCode; Attempts = $r.Attempts; DurationMs = $r.DurationMs
            ErrorKind = $r.ErrorKind; Error = $r.Error; Method = $r.Method; Uri = $r.Uri; StartTime = $r.StartTime; ContentType = $r.ContentType; Content = $r.Content }
    }
    $stages = [ordered]@{
        'Import-RequestFile | Measure-Object'                            = { Import-RequestFile -LiteralPath $RequestFile | Measure-Object }
        'Import-RequestFile | Invoke-BatchRequest | Measure-Object'      = { Import-RequestFile -LiteralPath $RequestFile | Invoke-BatchRequest @batch | Measure-Object }
        'Import-RequestFile | Invoke-BatchRequest | Export-Csv'          = { Import-RequestFile -LiteralPath $RequestFile | Invoke-BatchRequest @batch | Export-Csv -LiteralPath $csv }
        'collected results | Export-Csv'                                 = { $results | Export-Csv -LiteralPath $csv }
        "the same $(@($flat[0].PSObject.Properties).Count) scalar values as PSCustomObjects | Export-Csv" = { $flat | Export-Csv -LiteralPath $csv }
    }
    $rows = foreach ($name in $stages.Keys) { [pscustomobject]@{ Stage = $name; MicrosecondsPerRecord = & $best $stages[$name] } }
    $loop = & $best { foreach ($r in $results) { } }
    $properties = foreach ($name in $results[0].PSObject.Properties.Name) {
        $read = & $best { foreach ($r in $results) { $null = "$($r.PSObject.Properties[$name].Value)" } }.GetNewClosure()
        [pscustomobject]@{ Stage = "read $name as text"; MicrosecondsPerRecord = [math]::Max(0, $read - $loop) }
    }
    @($rows) + @($properties)
}

function Invoke-BatchRequestProcess {
    <# BatchRequest in a pwsh of its own: whole-process time, and the batch's time and memory as it reports them. #>
    param([string] $RequestFile, [int] $Throttle = $ThrottleLimit, [switch] $AdaptiveThrottle, [int] $MaximumRetryCount = -1,
        [string] $ExportCsvPath, [string] $Module = $ModulePath, [hashtable] $Environment = @{}, [switch] $NoSend)
    $pwsh = @(Get-PwshCommand)
    $arguments = @('-ModulePath', $Module, '-RequestFile', $RequestFile, '-ThrottleLimit', $Throttle)
    if ($AdaptiveThrottle) { $arguments += '-AdaptiveThrottle' }
    if ($NoSend) { $arguments += '-NoSend' }
    if ($MaximumRetryCount -ge 0) { $arguments += '-MaximumRetryCount', $MaximumRetryCount }
    if ($ExportCsvPath) { $arguments += '-ExportCsvPath', $ExportCsvPath }
    $outcome = Invoke-TimedProcess -Environment $Environment -Command ($pwsh + @('-NoProfile', '-NonInteractive',
            '-File', (Join-Path $PSScriptRoot 'Measure-BatchRequestProcess.ps1')) + $arguments)
    $report = ConvertFrom-LastJsonLine $outcome.StdOut
    $problem = Get-ProcessProblem $outcome
    if (-not $report) { return New-ToolRun -ProcessSeconds $outcome.Seconds -Ok 0 -Problem ($problem ?? 'no report') }
    New-ToolRun -ProcessSeconds $outcome.Seconds -InProcessSeconds $report.elapsedSeconds -Ok $report.succeeded -Problem $problem -Extra $report
}

function Invoke-AiohttpPeer {
    param([string] $UrlFile)
    $outcome = Invoke-TimedProcess -Command @($Python, (Join-Path $PSScriptRoot 'peers/aiohttp_batch.py'), $UrlFile, $ThrottleLimit)
    $report = ConvertFrom-LastJsonLine $outcome.StdOut
    $problem = Get-ProcessProblem $outcome
    if (-not $report) { return New-ToolRun -ProcessSeconds $outcome.Seconds -Ok 0 -Problem ($problem ?? 'no report') }
    New-ToolRun -ProcessSeconds $outcome.Seconds -InProcessSeconds $report.elapsedSeconds -Ok $report.ok -Problem $problem
}

function Invoke-CurlPeer {
    <# curl --parallel over a config file of url/output pairs; --write-out gives one status code per transfer. #>
    param([string] $CurlConfig)
    $outcome = Invoke-TimedProcess -Command @('curl', '--parallel', '--parallel-max', $ThrottleLimit, '--silent',
        '--noproxy', '*', '--write-out', '%{http_code}\n', '--config', $CurlConfig)
    $ok = @($outcome.StdOut -split "`n" | Where-Object { $_ -match '^2\d\d$' }).Count
    New-ToolRun -ProcessSeconds $outcome.Seconds -Ok $ok -Problem (Get-ProcessProblem $outcome)
}

function Invoke-HeyPeer {
    <# hey sends one URL N times from T workers: the raw ceiling of this machine. #>
    param([string] $Url, [int] $Count)
    $outcome = Invoke-TimedProcess -Command @('hey', '-n', $Count, '-c', $ThrottleLimit, $Url)
    $total = if ($outcome.StdOut -match 'Total:\s+([\d.]+) secs') { [double]::Parse($Matches[1], $Invariant) }
    $ok = 0
    foreach ($match in [regex]::Matches($outcome.StdOut, '\[(2\d\d)\]\s+(\d+) responses')) { $ok += [int]$match.Groups[2].Value }
    New-ToolRun -ProcessSeconds $outcome.Seconds -InProcessSeconds $total -Ok $ok -Problem (Get-ProcessProblem $outcome)
}

function Invoke-HttpClientPeer {
    param([string] $UrlFile)
    $outcome = Invoke-TimedProcess -Command @((Get-DotnetPath), $HttpClientPeer, $UrlFile, $ThrottleLimit)
    $report = ConvertFrom-LastJsonLine $outcome.StdOut
    $problem = Get-ProcessProblem $outcome
    if (-not $report) { return New-ToolRun -ProcessSeconds $outcome.Seconds -Ok 0 -Problem ($problem ?? 'no report') }
    New-ToolRun -ProcessSeconds $outcome.Seconds -InProcessSeconds $report.elapsedSeconds -Ok $report.ok -Problem $problem
}

function Invoke-ForEachParallelPeer {
    param([string] $UrlFile)
    $pwsh = @(Get-PwshCommand)
    $outcome = Invoke-TimedProcess -Command ($pwsh + @('-NoProfile', '-NonInteractive',
            '-File', (Join-Path $PSScriptRoot 'peers/foreach-parallel.ps1'), '-UrlFile', $UrlFile, '-ThrottleLimit', $ThrottleLimit))
    $report = ConvertFrom-LastJsonLine $outcome.StdOut
    $problem = Get-ProcessProblem $outcome
    if (-not $report) { return New-ToolRun -ProcessSeconds $outcome.Seconds -Ok 0 -Problem ($problem ?? 'no report') }
    New-ToolRun -ProcessSeconds $outcome.Seconds -InProcessSeconds $report.elapsedSeconds -Ok $report.ok -Problem $problem
}

function Get-ToolSet {
    <# The tools of scenarios A and B (-Adaptive: and BatchRequest -AdaptiveThrottle), in their first run's order. #>
    param($Inputs, [string] $HeyUrl, [switch] $Adaptive)
    $tools = [ordered]@{
        'BatchRequest (warm session)' = @{ Command = 'Invoke-BatchRequestInSession'; Parameters = @{ RequestFile = $Inputs.RequestFile } }
        'BatchRequest (own process)'  = @{ Command = 'Invoke-BatchRequestProcess'; Parameters = @{ RequestFile = $Inputs.RequestFile; ExportCsvPath = (Join-Path $WorkDir 'own-process.csv') } }
    }
    if ($Adaptive) {
        $withAdaptive = @{ RequestFile = $Inputs.RequestFile; AdaptiveThrottle = $true; ExportCsvPath = (Join-Path $WorkDir 'own-process.csv') }
        $tools['BatchRequest -AdaptiveThrottle (warm session)'] = @{ Command = 'Invoke-BatchRequestInSession'; Parameters = $withAdaptive }
        $tools['BatchRequest -AdaptiveThrottle (own process)'] = @{ Command = 'Invoke-BatchRequestProcess'; Parameters = $withAdaptive }
    }
    if ('aiohttp' -in $Available) { $tools['aiohttp'] = @{ Command = 'Invoke-AiohttpPeer'; Parameters = @{ UrlFile = $Inputs.UrlFile } } }
    if ('curl' -in $Available) { $tools['curl'] = @{ Command = 'Invoke-CurlPeer'; Parameters = @{ CurlConfig = $Inputs.CurlConfig } } }
    if ('hey' -in $Available) { $tools['hey'] = @{ Command = 'Invoke-HeyPeer'; Parameters = @{ Url = $HeyUrl; Count = $Inputs.Count } } }
    $tools['ForEach-Object -Parallel'] = @{ Command = 'Invoke-ForEachParallelPeer'; Parameters = @{ UrlFile = $Inputs.UrlFile } }
    $tools['HttpClient'] = @{ Command = 'Invoke-HttpClientPeer'; Parameters = @{ UrlFile = $Inputs.UrlFile } }
    $tools
}

#endregion

#region Scenarios

function Invoke-WarmUp {
    <#
        Runs the measured pipeline, into Export-Csv, on up to 1,000 records so that the measured runs find the
        session warm, its hot methods past the JIT's first tier (-Adaptive: both ways).
    #>
    param($Server, [string] $RequestFile, [switch] $Adaptive)
    foreach ($adaptiveThrottle in @($false) + @($true | Where-Object { $Adaptive })) {
        Import-RequestFile -LiteralPath $RequestFile | Select-Object -First 1000 |
            Invoke-BatchRequest -ThrottleLimit $ThrottleLimit -AdaptiveThrottle:$adaptiveThrottle -ErrorAction SilentlyContinue |
            Export-Csv -LiteralPath (Join-Path $WorkDir 'warm-up.csv')
    }
    Reset-TestServer $Server
}

function Invoke-ScenarioA {
    param($Server)
    $bound = $LatencyCount * $LatencyMs / 1000 / $ThrottleLimit
    Write-Host "A: $LatencyCount records, $LatencyMs ms latency, T=$ThrottleLimit; lower bound $(Format-Number $bound) s"
    $urls = foreach ($i in 1..$LatencyCount) { "$($Server.BaseUri)delay/$($LatencyMs)?id=a-$i" }
    $inputs = New-BatchInputs -Name 'scenario-a' -Urls $urls -IdPrefix 'a-'
    Invoke-WarmUp -Server $Server -RequestFile $inputs.RequestFile -Adaptive
    $tools = Get-ToolSet -Inputs $inputs -HeyUrl "$($Server.BaseUri)delay/$($LatencyMs)?id=hey" -Adaptive
    [pscustomobject]@{
        Name              = 'A'
        Count             = $LatencyCount
        Bound             = $bound
        Results           = @(Invoke-Rounds -Server $Server -Tools $tools -Count $LatencyCount -IdPrefix 'a-')
        ExportCsvFirstUse = Measure-ExportCsvFirstUse
    }
}

function Invoke-ScenarioB {
    param($Server)
    Write-Host "B: $OverheadCount records, no latency, T=$ThrottleLimit"
    $urls = foreach ($i in 1..$OverheadCount) { "$($Server.BaseUri)status/200?id=b-$i" }
    $inputs = New-BatchInputs -Name 'scenario-b' -Urls $urls -IdPrefix 'b-'
    Invoke-WarmUp -Server $Server -RequestFile $inputs.RequestFile
    $tools = Get-ToolSet -Inputs $inputs -HeyUrl "$($Server.BaseUri)status/200?id=hey"
    [pscustomobject]@{
        Name    = 'B'
        Count   = $OverheadCount
        Results = @(Invoke-Rounds -Server $Server -Tools $tools -Count $OverheadCount -IdPrefix 'b-')
        Cost    = @(Measure-ResultCost -RequestFile $inputs.RequestFile -Count $OverheadCount)
        WarmUp  = @(Measure-RuntimeWarmUp -RequestFile $inputs.RequestFile)
    }
}

# The row of Measure-RuntimeWarmUp that sends nothing: what PowerShell needs for the pipeline in a fresh process.
$NoSendRow = 'defaults, no request sent: `Import-RequestFile f.json | Export-Csv`'

function Measure-RuntimeWarmUp {
    <#
        Why the pipeline is slower in a fresh pwsh than in a warm session: the same own-process run under the
        runtime's defaults and with its tiering changed through environment variables (which a user's pwsh does not
        have; they only show where the time goes). Alternated, medians of -Runs.
    #>
    param([string] $RequestFile)
    $settings = [ordered]@{
        'defaults (tiered compilation with PGO)' = @{}
        'DOTNET_TieredPGO=0'                     = @{ DOTNET_TieredPGO = '0' }
        'DOTNET_TieredCompilation=0'             = @{ DOTNET_TieredCompilation = '0' }
        $NoSendRow                               = @{}
    }
    $csv = Join-Path $WorkDir 'warm-up.csv'
    $runs = foreach ($run in 1..$Runs) {
        foreach ($name in $settings.Keys) {
            $measured = Invoke-BatchRequestProcess -RequestFile $RequestFile -ExportCsvPath $csv -Environment $settings[$name] -NoSend:($name -eq $NoSendRow)
            [pscustomobject]@{ Setting = $name; Seconds = $measured.InProcessSeconds; Jitted = $measured.Extra.jittedMethods; JitMs = $measured.Extra.jitMilliseconds }
        }
    }
    foreach ($name in $settings.Keys) {
        $of = @($runs | Where-Object Setting -EQ $name)
        [pscustomobject]@{
            Setting = $name
            Seconds = Get-Median @($of.Seconds)
            Jitted  = Get-Median @($of.Jitted)
            JitMs   = Get-Median @($of.JitMs)
        }
    }
}

function Measure-ExportCsvFirstUse {
    <#
        Scenario A's reference: milliseconds PowerShell itself spends, in a fresh pwsh after Import-Module
        BatchRequest, on an empty pipeline into Export-Csv (its module's autoload) and then on its first object,
        nothing sent (bench/Measure-ExportCsvFirstUse.ps1). Medians of -Runs.
    #>
    $pwsh = @(Get-PwshCommand)
    $runs = foreach ($run in 1..$Runs) {
        $outcome = Invoke-TimedProcess -Command ($pwsh + @('-NoProfile', '-NonInteractive', '-File',
                (Join-Path $PSScriptRoot 'Measure-ExportCsvFirstUse.ps1'), '-ModulePath', $ModulePath, '-CsvPath', (Join-Path $WorkDir 'first-use.csv')))
        $report = ConvertFrom-LastJsonLine $outcome.StdOut
        if (-not $report) { throw "bench/Measure-ExportCsvFirstUse.ps1 gave no report: $(Get-ProcessProblem $outcome)" }
        $report
    }
    [pscustomobject]@{
        EmptyPipelineMs = Get-Median @($runs.emptyPipelineMs)
        FirstObjectMs   = Get-Median @($runs.firstObjectMs)
    }
}

function Test-NdjsonImport {
    <# Whether Import-RequestFile reads NDJSON yet: a two-line file must give its two records. #>
    param($Server)
    $probe = New-NdjsonFile -Path (Join-Path $WorkDir 'probe.ndjson') -Count 2 -BaseUri $Server.BaseUri -IdPrefix 'probe-'
    try {
        $records = @(Import-RequestFile -LiteralPath $probe -ErrorAction Stop)
        $ids = ($records | ForEach-Object { $_.Id }) -join ','
        if ($ids -eq 'probe-1,probe-2') { return $null }
        "Import-RequestFile read $($records.Count) record(s) ($ids) from a two-line NDJSON file instead of probe-1,probe-2"
    }
    catch {
        "Import-RequestFile cannot read NDJSON yet: $($_.Exception.Message.Replace("$RepoRoot/", ''))"
    }
}

function Invoke-ScenarioC {
    param($Server)
    Write-Host "C: $($StreamSizes -join ' and ') records streamed from NDJSON, no latency, T=$ThrottleLimit"
    $skipped = Test-NdjsonImport -Server $Server
    if ($skipped) {
        Write-Warning "Scenario C skipped: $skipped"
        return [pscustomobject]@{ Name = 'C'; Skipped = $skipped; Results = @() }
    }
    $results = foreach ($count in $StreamSizes) {
        $file = New-NdjsonFile -Path (Join-Path $WorkDir "scenario-c-$count.ndjson") -Count $count -BaseUri $Server.BaseUri -IdPrefix 'c-'
        $tools = [ordered]@{ "BatchRequest, $($count.ToString('N0', $Invariant)) records" = @{ Command = 'Invoke-BatchRequestProcess'; Parameters = @{ RequestFile = $file; ExportCsvPath = (Join-Path $WorkDir "scenario-c-$count.csv") } } }
        Invoke-Rounds -Server $Server -Tools $tools -Count $count -IdPrefix 'c-'
        Remove-Item -LiteralPath $file
    }
    [pscustomobject]@{ Name = 'C'; Skipped = $null; Results = @($results) }
}

#endregion

#region Report

function Get-MachineInfo {
    $cpu = (Get-Content /proc/cpuinfo | Where-Object { $_ -match '^model name' } | Select-Object -First 1) -replace '^model name\s*:\s*', ''
    $memory = (Get-Content /proc/meminfo | Where-Object { $_ -match '^MemTotal' }) -replace '\D', ''
    $os = (Get-Content /etc/os-release | Where-Object { $_ -match '^PRETTY_NAME=' }) -replace '^PRETTY_NAME="?|"$', ''
    [ordered]@{
        'CPU'    = $cpu
        'Cores'  = [Environment]::ProcessorCount
        'Memory' = '{0} GiB' -f (Format-Number ([long]$memory / 1MB) '0.0')
        'OS'     = $os
        'Kernel' = (Get-Content /proc/sys/kernel/osrelease)
    }
}

function Build-HttpClientPeer {
    <# Builds bench/peers/HttpClientBatch for the runtime of this pwsh; returns the path of its assembly. #>
    $output = Join-Path $WorkDir 'httpclient'
    & (Get-DotnetPath) build (Join-Path $PSScriptRoot 'peers/HttpClientBatch') -c Release -o $output --nologo -v quiet '-clp:ErrorsOnly' | Out-Host
    if ($LASTEXITCODE -ne 0) { throw "Building bench/peers/HttpClientBatch failed with exit code $LASTEXITCODE." }
    Join-Path $output 'HttpClientBatch.dll'
}

function Get-LoadAverage { ((Get-Content /proc/loadavg) -split ' ' | Select-Object -First 3) -join ' ' }

function Get-Versions {
    $commit = (& git -C $RepoRoot rev-parse --short HEAD 2>$null)
    # This file itself is rewritten by every run: its changes do not make the code uncommitted.
    $changed = @(& git -C $RepoRoot status --porcelain --untracked-files=no 2>$null | Where-Object { $_ -notmatch 'RESULTS\.md$' })
    $dirty = if ($changed.Count) { ', uncommitted changes' } else { '' }
    $module = Get-Module BatchRequest
    $versions = [ordered]@{
        'BatchRequest' = "$($module.Version) (commit $commit$dirty)"
        'PowerShell'   = "$($PSVersionTable.PSVersion) (.NET tool), $([Runtime.InteropServices.RuntimeInformation]::FrameworkDescription)"
    }
    if ('aiohttp' -in $Available) {
        $versions['Python, aiohttp'] = '{0}; python3-aiohttp {1}' -f (& $Python --version 2>&1), (Get-DebianVersion 'python3-aiohttp')
    }
    if ('curl' -in $Available) { $versions['curl'] = "$((& curl --version | Select-Object -First 1) -replace '^curl (\S+).*', '$1') (Debian $(Get-DebianVersion 'curl'))" }
    if ('hey' -in $Available) { $versions['hey'] = "Debian $(Get-DebianVersion 'hey')" }
    $versions['HttpClient'] = "$([Runtime.InteropServices.RuntimeInformation]::FrameworkDescription), SocketsHttpHandler"
    $versions
}

function Get-ToolSummary {
    <# Medians over the runs of one tool, and what the server saw over all of them. #>
    param([object[]] $Results)
    $first = $Results[0]
    $inFlight = @($Results | ForEach-Object MaxInFlight | Sort-Object)
    [pscustomobject]@{
        Tool           = $first.Tool
        Count          = $first.Count
        Runs           = $Results.Count
        Process        = Get-Median @($Results | ForEach-Object ProcessSeconds)
        InProcess      = Get-Median @($Results | ForEach-Object InProcessSeconds)
        InFlight       = if ($inFlight[0] -eq $inFlight[-1]) { "$($inFlight[0])" } else { "$($inFlight[0])–$($inFlight[-1])" }
        InFlightAll    = $inFlight
        Connections    = ($Results | Measure-Object Connections -Maximum).Maximum
        ArrivalsOkRuns = @($Results | Where-Object ArrivalsOk).Count
        AllOkRuns      = @($Results | Where-Object { $_.Ok -eq $_.Count -and -not $_.Problem }).Count
        Problems       = @($Results | Where-Object Problem | ForEach-Object { "run $($_.Run): $($_.Problem)" })
    }
}

function Get-PeerRatios {
    <#
        Per run, BatchRequest's time divided by each peer's time of the same run (lower favours BatchRequest), or
        with -Rate its rate divided by the peer's (higher favours it); then the median over the runs. The warm
        session is compared with the peer's batch time where the peer reports one (else its whole process: curl
        starts in milliseconds); BatchRequest's own process with the peer's whole process. -Variant names the rows:
        'BatchRequest' (the fixed throttle) or 'BatchRequest -AdaptiveThrottle'.
    #>
    param([object[]] $Results, [string[]] $Peers, [switch] $Rate, [string] $Variant = 'BatchRequest')
    foreach ($peer in $Peers) {
        $warm = @(); $process = @()
        foreach ($run in 1..$Runs) {
            $inRun = @($Results | Where-Object Run -EQ $run)
            $ours = $inRun | Where-Object Tool -EQ "$Variant (warm session)"
            $ownProcess = $inRun | Where-Object Tool -EQ "$Variant (own process)"
            $theirs = $inRun | Where-Object Tool -EQ $peer
            if (-not $theirs -or $theirs.Problem) { continue }
            $theirBatch = if ($null -ne $theirs.InProcessSeconds) { $theirs.InProcessSeconds } else { $theirs.ProcessSeconds }
            if ($ours -and $ours.InProcessSeconds -and $theirBatch) {
                $warm += if ($Rate) { $theirBatch / $ours.InProcessSeconds } else { $ours.InProcessSeconds / $theirBatch }
            }
            if ($ownProcess -and $ownProcess.ProcessSeconds -and $theirs.ProcessSeconds) {
                $process += if ($Rate) { $theirs.ProcessSeconds / $ownProcess.ProcessSeconds } else { $ownProcess.ProcessSeconds / $theirs.ProcessSeconds }
            }
        }
        [pscustomobject]@{ Peer = $peer; Warm = Get-Median $warm; Process = Get-Median $process }
    }
}

function Format-Check {
    param([bool] $Passed, [string] $Text)
    "- $(if ($Passed) { '✅' } else { '❌' }) $Text"
}

function Format-BatchRequestChecks {
    <# The server-side checks of issue #3 for BatchRequest's rows (with -AdaptiveThrottle, T is its ceiling). #>
    param([object[]] $Summaries, [bool] $ExpectFullConcurrency)
    foreach ($summary in $Summaries | Where-Object Tool -Like 'BatchRequest*') {
        $runs = $summary.Runs
        if ($ExpectFullConcurrency) {
            $exact = @($summary.InFlightAll | Where-Object { $_ -eq $ThrottleLimit }).Count
            Format-Check ($exact -eq $runs) "$($summary.Tool): exactly $ThrottleLimit in flight in $exact of $runs runs (seen: $($summary.InFlight))"
        }
        else {
            $over = @($summary.InFlightAll | Where-Object { $_ -gt $ThrottleLimit }).Count
            Format-Check ($over -eq 0) "$($summary.Tool): never more than $ThrottleLimit in flight (seen: $($summary.InFlight))"
        }
        Format-Check ($summary.Connections -le $ThrottleLimit) "$($summary.Tool): at most $($summary.Connections) connections (limit $ThrottleLimit)"
        Format-Check ($summary.ArrivalsOkRuns -eq $runs) "$($summary.Tool): every record arrived exactly once in $($summary.ArrivalsOkRuns) of $runs runs"
        Format-Check ($summary.AllOkRuns -eq $runs) "$($summary.Tool): every record succeeded in $($summary.AllOkRuns) of $runs runs"
    }
}

function Format-ProblemLines {
    param([object[]] $Summaries)
    foreach ($summary in $Summaries) {
        foreach ($problem in $summary.Problems) { "- $($summary.Tool), $problem" }
    }
}

function Get-OrderedSummaries {
    <# One summary per tool, in the order the tools first ran. #>
    param([object[]] $Results, [string[]] $Order)
    $byTool = @($Results | Group-Object Tool | ForEach-Object { Get-ToolSummary $_.Group })
    @($Order | ForEach-Object { $name = $_; $byTool | Where-Object Tool -EQ $name })
}

function Format-ScenarioA {
    param($Result)
    $bound = $Result.Bound
    $order = @($Result.Results | Select-Object -ExpandProperty Tool -Unique)
    $summaries = Get-OrderedSummaries $Result.Results $order
    "## A: $($Result.Count.ToString('N0', $Invariant)) records, $LatencyMs ms latency, T = $ThrottleLimit"
    ''
    "Lower bound N·L/T = $(Format-Number $bound '0.000') s. Medians of $Runs run(s). *Whole process* is the time from starting the program to its exit;"
    "*batch* is the time the tool measures around the batch itself (for BatchRequest in the warm session: a Stopwatch around the pipeline)."
    ''
    '| Tool | Whole process (s) | × bound | Batch (s) | × bound | Max in flight | Connections | All 2xx | Arrived once |'
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|'
    foreach ($s in $summaries) {
        $processRatio = if ($null -ne $s.Process) { $s.Process / $bound } else { $null }
        $batchRatio = if ($null -ne $s.InProcess) { $s.InProcess / $bound } else { $null }
        "| $($s.Tool) | $(Format-Number $s.Process) | $(Format-Number $processRatio) | $(Format-Number $s.InProcess) | $(Format-Number $batchRatio) | $($s.InFlight) | $($s.Connections) | $($s.AllOkRuns)/$($s.Runs) runs | $($s.ArrivalsOkRuns)/$($s.Runs) runs |"
    }
    ''
    'BatchRequest ÷ peer, time of the same run (median of the per-run ratios; below 1 favours BatchRequest):'
    ''
    Format-PeerRatioTable -Results $Result.Results -Peers ($order | Where-Object { $_ -notlike 'BatchRequest*' })
    ''
    Format-AdaptiveComparison -Results $Result.Results -Summaries $summaries -Bound $bound
    'Checks through the server:'
    ''
    Format-BatchRequestChecks -Summaries $summaries -ExpectFullConcurrency $true
    $warm = $summaries | Where-Object Tool -EQ 'BatchRequest (warm session)'
    if ($warm) {
        Format-Check ($warm.InProcess / $bound -le 1.05) "Target: BatchRequest (warm session) at most 1.05× the bound: $(Format-Number ($warm.InProcess / $bound) '0.000')×"
    }
    # Issue 13: the pipeline in its own pwsh, its batch against the bound and its whole process against curl's.
    $own = $summaries | Where-Object Tool -EQ 'BatchRequest (own process)'
    if ($own -and $own.InProcess) {
        Format-Check ($own.InProcess / $bound -le 1.10) "Target: BatchRequest (own process, in-process) at most 1.10× the bound: $(Format-Number ($own.InProcess / $bound) '0.000')×"
    }
    $curl = Get-PeerRatios -Results $Result.Results -Peers 'curl'
    if ($curl.Process) {
        Format-Check ($curl.Process -le 1.40) "Target: BatchRequest (own process, whole process) at most 1.40× curl's whole process: $(Format-Number $curl.Process '0.000')×"
    }
    Format-FirstArrival -Results $Result.Results -Bound $bound -ExportCsvFirstUse $Result.ExportCsvFirstUse
    $problems = @(Format-ProblemLines $summaries)
    if ($problems) { ''; 'Problems:'; ''; $problems }
    ''
}

function Format-FirstArrival {
    <#
        Where an own-process batch loses time to the bound: from the pipeline's start (the batch clock) to the first
        request the server saw, and the rest; set beside the fastest peer's batch against the same server, and what
        the 1.10× target leaves beyond that batch beside what PowerShell needs for Export-Csv's first use.
    #>
    param([object[]] $Results, [double] $Bound, $ExportCsvFirstUse)
    $own = @($Results | Where-Object { $_.Tool -EQ 'BatchRequest (own process)' -and $_.FirstArrival -and $_.Extra.batchStartedUnixMs })
    if (-not $own) { return }
    # Per run: the wait for the first arrival, and the rest of that same run's batch.
    $waits = @($own | ForEach-Object { ($_.FirstArrival.ToUnixTimeMilliseconds() - $_.Extra.batchStartedUnixMs) / 1000 })
    $rests = @(for ($i = 0; $i -lt $own.Count; $i++) { $own[$i].InProcessSeconds - $waits[$i] })
    $wait = Get-Median $waits
    $rest = Get-Median $rests
    $hey = Get-Median @($Results | Where-Object { $_.Tool -EQ 'hey' -and $_.InProcessSeconds } | ForEach-Object InProcessSeconds)
    $line = "- Reference: BatchRequest (own process): its first request reached the server $(Format-Number ($wait * 1000) '0') ms after the pipeline started, and the batch took $(Format-Number $rest) s from there ($(Format-Number ($rest / $Bound))× the bound; medians of the runs)"
    if ($hey) { $line += "; hey's whole batch against the same server took $(Format-Number ($hey / $Bound))× the bound" }
    $line
    if ($hey -and $ExportCsvFirstUse) {
        "- Reference: the 1.10× target leaves $(Format-Number ((1.10 * $Bound - $hey) * 1000) '0') ms beyond hey's batch; in a fresh pwsh after ``Import-Module BatchRequest``, with nothing sent, an empty pipeline into ``Export-Csv`` takes PowerShell $(Format-Number $ExportCsvFirstUse.EmptyPipelineMs '0') ms (the autoload of its module, which every batch clock pays before any command of the pipeline sees a record), and its first object $(Format-Number $ExportCsvFirstUse.FirstObjectMs '0') ms more (medians of $Runs fresh processes, ``bench/Measure-ExportCsvFirstUse.ps1``)"
    }
}

function Format-ScenarioB {
    param($Result)
    $count = $Result.Count
    $order = @($Result.Results | Select-Object -ExpandProperty Tool -Unique)
    $summaries = Get-OrderedSummaries $Result.Results $order
    "## B: $($count.ToString('N0', $Invariant)) records, no latency, T = $ThrottleLimit (pure overhead)"
    ''
    "Requests per second, medians of $Runs run(s). BatchRequest runs the README's pipeline, ending in ``Export-Csv``, in the"
    'warm session and in its own pwsh. Whole-process rates include start-up: seconds for pwsh, milliseconds for curl and hey.'
    ''
    '| Tool | Whole process (s) | req/s | Batch (s) | req/s | Max in flight | Connections | All 2xx | Arrived once |'
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|'
    foreach ($s in $summaries) {
        $processRate = if ($s.Process) { $count / $s.Process } else { $null }
        $batchRate = if ($s.InProcess) { $count / $s.InProcess } else { $null }
        "| $($s.Tool) | $(Format-Number $s.Process) | $(Format-Number $processRate '0') | $(Format-Number $s.InProcess) | $(Format-Number $batchRate '0') | $($s.InFlight) | $($s.Connections) | $($s.AllOkRuns)/$($s.Runs) runs | $($s.ArrivalsOkRuns)/$($s.Runs) runs |"
    }
    ''
    'BatchRequest ÷ peer, requests per second of the same run (median of the per-run ratios; above 1 favours BatchRequest):'
    ''
    '| Peer | warm session ÷ peer''s batch | own process ÷ peer''s whole process |'
    '|---|---:|---:|'
    $ratios = @(Get-PeerRatios -Results $Result.Results -Peers ($order | Where-Object { $_ -notlike 'BatchRequest*' }) -Rate)
    foreach ($ratio in $ratios) {
        "| $($ratio.Peer) | $(Format-Number $ratio.Warm) | $(Format-Number $ratio.Process) |"
    }
    ''
    'Checks through the server:'
    ''
    Format-BatchRequestChecks -Summaries $summaries -ExpectFullConcurrency $false
    $curl = $ratios | Where-Object Peer -EQ 'curl'
    $hey = $ratios | Where-Object Peer -EQ 'hey'
    if ($curl -and $curl.Warm) { Format-Check ($curl.Warm -gt 1) "Target: BatchRequest (warm session) faster than curl: $(Format-Number $curl.Warm)× curl's rate" }
    if ($hey -and $hey.Warm) { Format-Check ($hey.Warm -ge 0.7) "Target: BatchRequest (warm session) at least 0.7× hey: $(Format-Number $hey.Warm)× hey's rate" }
    # Issue 13: the pipeline's own time in its own pwsh, against curl's whole process and aiohttp's batch.
    $own = $summaries | Where-Object Tool -EQ 'BatchRequest (own process)'
    $curlRun = $summaries | Where-Object Tool -EQ 'curl'
    $aiohttpRun = $summaries | Where-Object Tool -EQ 'aiohttp'
    if ($own -and $own.InProcess -and $curlRun -and $curlRun.Process) {
        $ratio = $curlRun.Process / $own.InProcess
        Format-Check ($ratio -ge 0.8) "Target: BatchRequest (own process, in-process) at least 0.8× curl's whole-process rate: $(Format-Number $ratio)×"
    }
    if ($own -and $own.InProcess -and $aiohttpRun -and $aiohttpRun.InProcess) {
        $ratio = $aiohttpRun.InProcess / $own.InProcess
        Format-Check ($ratio -ge 3) "Target: BatchRequest (own process, in-process) at least 3× aiohttp's rate: $(Format-Number $ratio)×"
    }
    # Not a target: how far the pipeline in a fresh pwsh is from the HttpClient it sends through, in a fresh process too.
    $httpClientRun = $summaries | Where-Object Tool -EQ 'HttpClient'
    if ($own -and $own.InProcess -and $httpClientRun -and $httpClientRun.InProcess) {
        "- Reference: BatchRequest (own process, in-process) runs at $(Format-Number ($httpClientRun.InProcess / $own.InProcess))× the rate of a bare HttpClient batch in a fresh process (no PowerShell, no results, no Export-Csv)"
    }
    $problems = @(Format-ProblemLines $summaries)
    if ($problems) { ''; 'Problems:'; ''; $problems }
    ''
    if ($Result.Cost) {
        '### Where the time per record goes (warm session)'
        ''
        'Each stage is the pipeline up to it, best of the runs; what a stage adds is its difference to the one above.'
        'Below, `Export-Csv` on its own, and the properties of a result read as text as `Export-Csv` reads them.'
        ''
        '| Stage | µs per record |'
        '|---|---:|'
        foreach ($row in $Result.Cost) { "| ``$($row.Stage.Replace('|', '\|'))`` | $(Format-Number $row.MicrosecondsPerRecord '0.0') |" }
        ''
    }
    if ($Result.WarmUp) {
        '### Why its own pwsh is slower than the warm session'
        ''
        'The same own-process pipeline (ending in `Export-Csv`) under the runtime''s defaults and with its tiering changed'
        'by environment variables, alternated, medians of the runs. *Methods jitted* and *JIT time* count from before'
        '`Import-Module` to the batch''s end (`System.Runtime.JitInfo`). The defaults run precompiled (ReadyToRun) code'
        'first, then re-jit hot methods with instrumentation (PGO) and only then optimise them: a batch of seconds ends'
        'before most reach their final code.'
        'A user''s pwsh runs with the defaults; the other rows only show where the time goes. The last row is the floor:'
        'the same records read and written by the same pipeline without `Invoke-BatchRequest`, nothing sent.'
        ''
        '| Runtime setting | Batch (s) | req/s | Methods jitted | JIT time (ms) |'
        '|---|---:|---:|---:|---:|'
        foreach ($row in $Result.WarmUp) {
            $rate = if ($row.Seconds) { $count / $row.Seconds } else { $null }
            "| $($row.Setting.Replace('|', '\|')) | $(Format-Number $row.Seconds) | $(Format-Number $rate '0') | $(Format-Number $row.Jitted '0') | $(Format-Number $row.JitMs '0') |"
        }
        ''
        $floor = $Result.WarmUp | Where-Object Setting -EQ $NoSendRow
        if ($floor -and $floor.Seconds -and $curlRun -and $curlRun.Process) {
            $allowed = $curlRun.Process / 0.8
            $left = ($allowed - $floor.Seconds) / $count * 1e6
            "With nothing sent, a fresh pwsh needs $(Format-Number $floor.Seconds) s to read and write these $($count.ToString('N0', $Invariant)) records." +
            " The target (0.8× curl's rate) allows the whole batch $(Format-Number $allowed) s, which leaves $(Format-Number $left '0.0') µs per record" +
            ' for sending it and making its result, in a process whose code is not yet compiled; the warm session spends the' +
            ' difference of the first two stages of the table above on that.'
            ''
        }
    }
}

function Format-ScenarioC {
    param($Result)
    '## C: records streamed from NDJSON, no latency, T = ' + $ThrottleLimit
    ''
    if ($Result.Skipped) {
        "**Skipped:** $($Result.Skipped)"
        ''
        'Scenario C runs as soon as `Import-RequestFile` accepts a `.ndjson` file (one JSON request object per line).'
        ''
        return
    }
    '`Import-RequestFile x.ndjson | Invoke-BatchRequest | Export-Csv results.csv` in a pwsh of its own; peak working set is'
    "that process's ``Process.PeakWorkingSet64`` (VmHWM), baseline its working set after ``Import-Module``. Medians of $Runs run(s)."
    ''
    '| Records | Peak working set (MB) | Highest of the runs (MB) | Baseline (MB) | Batch (s) | req/s | Whole process (s) | Max in flight | Connections | All 2xx | Arrived once |'
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
    $peaks = [Collections.Generic.List[object]]::new()
    foreach ($group in $Result.Results | Group-Object Count) {
        $s = Get-ToolSummary $group.Group
        $reports = @($group.Group | Where-Object Extra | ForEach-Object Extra)
        $peak = Get-Median @($reports | ForEach-Object peakWorkingSet)
        $highest = ($reports | Measure-Object peakWorkingSet -Maximum).Maximum
        $baseline = Get-Median @($reports | ForEach-Object baselineWorkingSet)
        $peaks.Add([pscustomobject]@{ Count = [int]$s.Count; Peak = $peak })
        $rate = if ($s.InProcess) { $s.Count / $s.InProcess } else { $null }
        "| $($s.Count.ToString('N0', $Invariant)) | $(Format-Number ($peak / 1MB) '0') | $(Format-Number ($highest / 1MB) '0') | $(Format-Number ($baseline / 1MB) '0') | $(Format-Number $s.InProcess) | $(Format-Number $rate '0') | $(Format-Number $s.Process) | $($s.InFlight) | $($s.Connections) | $($s.AllOkRuns)/$($s.Runs) runs | $($s.ArrivalsOkRuns)/$($s.Runs) runs |"
    }
    ''
    'Checks:'
    ''
    foreach ($group in $Result.Results | Group-Object Tool) {
        Format-BatchRequestChecks -Summaries @(Get-ToolSummary $group.Group) -ExpectFullConcurrency $false
    }
    $measuredPeaks = @($peaks | Where-Object { $null -ne $_.Peak })
    foreach ($entry in $measuredPeaks) {
        Format-Check ($entry.Peak -lt 250MB) "Target: peak working set under 250 MB with $($entry.Count.ToString('N0', $Invariant)) records: $(Format-Number ($entry.Peak / 1MB) '0') MB"
    }
    if ($measuredPeaks.Count -ge 2) {
        $growth = $measuredPeaks[-1].Peak / $measuredPeaks[0].Peak
        Format-Check ($growth -le 1.15) "Target: nearly the same for every size (at most 1.15×): the largest uses $(Format-Number $growth)× the smallest's peak"
    }
    $problems = @(Format-ProblemLines @($Result.Results | Group-Object Tool | ForEach-Object { Get-ToolSummary $_.Group }))
    if ($problems) { ''; 'Problems:'; ''; $problems }
    ''
}

function Write-Results {
    param($Machine, $Versions, [object[]] $ScenarioResults, [string] $LoadBefore, [string] $LoadAfter, [TimeSpan] $Elapsed, [string] $CommandLine)
    $lines = @(
        '# BatchRequest benchmark (issue #3, widened to overload and cold start)'
        ''
        'BatchRequest beside its peers (A, B, C: the benchmark of issue #3, A also with `-AdaptiveThrottle`), against a server'
        'that caps its concurrency (D: overload), and the first batch of a fresh pwsh, ReadyToRun against IL (S: cold start).'
        ''
        if ($Quick) {
            '> **Smoke run** (`-Quick`): tiny counts and one run, only to show that the benchmark works end to end. These'
            '> numbers are **not** the benchmark: at these counts fixed costs dominate, and the machine may have been busy'
            '> (see the load average). Make the full run on a quiet machine with `dotnet pwsh ./build.ps1 bench`, which'
            '> replaces this file.'
            ''
        }
        "Written by ``bench/Invoke-Benchmark.ps1`` on $([DateTime]::UtcNow.ToString('yyyy-MM-dd HH:mm', $Invariant)) UTC in $(Format-Number $Elapsed.TotalMinutes '0.0') min: ``$CommandLine``."
        "Runs: $Runs; T = $ThrottleLimit; the loopback test server (``tests/BatchRequest.TestServer``) on the same machine; load average (1, 5, 15 min) $LoadBefore before, $LoadAfter after."
        ''
        '## Machine'
        ''
        '| | |'
        '|---|---|'
        foreach ($key in $Machine.Keys) { "| $key | $($Machine[$key]) |" }
        ''
        '## Versions'
        ''
        '| Tool | Version | Run as |'
        '|---|---|---|'
        foreach ($key in $Versions.Keys) {
            $runAs = switch -Wildcard ($key) {
                'BatchRequest' { '`Import-RequestFile f.json \| Invoke-BatchRequest -ThrottleLimit T` (and with `-AdaptiveThrottle`) in the warm session, and in its own pwsh (`bench/Measure-BatchRequestProcess.ps1`), every row ending in `Export-Csv`' }
                'PowerShell' { '`ForEach-Object -Parallel { Invoke-RestMethod $_ } -ThrottleLimit T` in its own pwsh (`bench/peers/foreach-parallel.ps1`)' }
                'Python*' { '`bench/peers/aiohttp_batch.py`: asyncio, `Semaphore(T)`, `TCPConnector(limit=T)`' }
                'curl' { '`curl --parallel --parallel-max T --config urls.curl` (url/output pairs)' }
                'hey' { '`hey -n N -c T URL`: one URL N times, the raw ceiling' }
                'HttpClient' { '`bench/peers/HttpClientBatch`: one `HttpClient`, T workers taking the next URL, `MaxConnectionsPerServer = T`, no PowerShell; what the engine sends through' }
            }
            "| $key | $($Versions[$key]) | $runAs |"
        }
        ''
        foreach ($result in $ScenarioResults) {
            switch ($result.Name) {
                'A' { Format-ScenarioA $result }
                'B' { Format-ScenarioB $result }
                'C' { Format-ScenarioC $result }
                'D' { Format-ScenarioD $result }
                'S' { Format-ScenarioS $result }
                'R' { Format-ScenarioR $result }
                'Q' { Format-ScenarioQ $result }
            }
        }
        '## How to reproduce'
        ''
        'On a quiet machine, from the repository root, as root (missing peers are installed with `apt-get`):'
        ''
        '```sh'
        'dotnet tool restore && dotnet pwsh ./build.ps1 bench        # build, then the full benchmark (5 runs)'
        'dotnet pwsh ./bench/Invoke-Benchmark.ps1 -Quick             # a smoke run: tiny counts, one run'
        'dotnet pwsh ./bench/Invoke-Benchmark.ps1 -Runs 9 -Scenario A,B -ThrottleLimit 40 -LatencyMs 50   # any part, after a build'
        'dotnet pwsh ./bench/Invoke-Benchmark.ps1 -Scenario D,S -OverloadCount 2000 -ColdStartRuns 9     # overload and cold start'
        '```'
        ''
        'Each tool is checked through the server: requests in flight at most, distinct connections that carried'
        'requests, and the ledger of arrivals by id (hey sends one URL N times, so only its count is compared; above'
        "$($LedgerLimit.ToString('N0', $Invariant)) records only counts are compared; in D, where turned-away attempts arrive too, the capped route's"
        'own counters: served, turned away, in service). Progress output is off in every pwsh.'
    )
    $lines | Set-Content -LiteralPath $ResultsPath -Encoding utf8NoBOM
    $lines
}

#endregion

$started = [Diagnostics.Stopwatch]::StartNew()
$commandLine = (@('./bench/Invoke-Benchmark.ps1') + @($PSBoundParameters.GetEnumerator() | ForEach-Object {
            if ($_.Value -is [switch]) { "-$($_.Key)" } else { "-$($_.Key) $(@($_.Value) -join ',')" }
        })) -join ' '
if (-not (Test-Path -LiteralPath $ModulePath)) { throw "No built module at $($ModulePath): run 'dotnet pwsh ./build.ps1 build' first." }
Import-Module $ModulePath
$null = New-Item -ItemType Directory -Path $WorkDir -Force
$Available = @(Install-PeerPackages)
$HttpClientPeer = Build-HttpClientPeer
$machine = Get-MachineInfo
$versions = Get-Versions
$loadBefore = Get-LoadAverage
Write-Host "Peers: $($Available -join ', '), ForEach-Object -Parallel. Runs: $Runs. Load average: $loadBefore"

$server = Start-TestServer
try {
    $scenarioResults = foreach ($name in 'A', 'B', 'C', 'D', 'S', 'R', 'Q' | Where-Object { $_ -in $ScenarioNames }) {
        & "Invoke-Scenario$name" -Server $server
    }
}
finally {
    Stop-TestServer $server
}

$started.Stop()
$report = Write-Results -Machine $machine -Versions $versions -ScenarioResults @($scenarioResults) -LoadBefore $loadBefore `
    -LoadAfter (Get-LoadAverage) -Elapsed $started.Elapsed -CommandLine $commandLine
Write-Host ''
$report | Write-Host
Write-Host ''
Write-Host "Results written to $ResultsPath"

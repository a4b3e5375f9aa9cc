<#
.SYNOPSIS
    Scenario Q of the benchmark: one quota shared on Redis. SharedCount records at LatencyMs split in three, sent by three pwsh processes at once under one -SharedThrottle of T, against one pwsh that
    sends them all with -ThrottleLimit T; the store's round trips per request, from the processes' summaries.
.DESCRIPTION
    Dot-sourced by bench/Invoke-Benchmark.ps1 (which defines $WorkDir, $ModulePath, $Runs, $ThrottleLimit,
    $SharedCount, $LatencyMs, $Quick, $Invariant, Format-Number, Get-Median, Format-Check, Get-PwshCommand and
    New-RequestFile). redis-server comes from its Debian package (tests/services.ps1), on a free loopback port.
#>

function Start-MeasuredProcess {
    <# Starts Measure-BatchRequestProcess.ps1 in a pwsh of its own, without waiting: returns the process and its output. #>
    param([string] $RequestFile, [string] $SharedThrottle)
    $pwsh = @(Get-PwshCommand)
    $start = [Diagnostics.ProcessStartInfo]::new($pwsh[0])
    $arguments = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'Measure-BatchRequestProcess.ps1'),
        '-ModulePath', $ModulePath, '-RequestFile', $RequestFile, '-ThrottleLimit', $ThrottleLimit)
    if ($SharedThrottle) { $arguments += '-SharedThrottle', $SharedThrottle }
    foreach ($argument in $arguments) { $start.ArgumentList.Add([string]$argument) }
    $start.UseShellExecute = $false
    $start.RedirectStandardOutput = $true
    $process = [Diagnostics.Process]::Start($start)
    [pscustomobject]@{ Process = $process; Output = $process.StandardOutput.ReadToEndAsync() }
}

function Receive-MeasuredProcess($Started) {
    if (-not $Started.Process.WaitForExit($ProcessTimeoutSec * 1000)) { $Started.Process.Kill($true); throw 'A process of scenario Q timed out.' }
    $line = $Started.Output.GetAwaiter().GetResult() -split "`n" | Where-Object { $_.Trim().StartsWith('{') } | Select-Object -Last 1
    $Started.Process.Dispose()
    $line | ConvertFrom-Json
}

function Invoke-ScenarioQ {
    param($Server)
    $count = if ($Quick) { 300 } else { $SharedCount }
    Write-Host "Q: $count records at $LatencyMs ms, three processes sharing one quota of $ThrottleLimit against one process at $ThrottleLimit"
    $redis = Start-TestRedis
    try {
        $records = foreach ($i in 1..$count) { @{ id = "q-$i"; uri = "$($Server.BaseUri)delay/$($LatencyMs)?id=q-$i" } }
        $whole = New-RequestFile -Path (Join-Path $WorkDir 'scenario-q.json') -Records $records
        $parts = foreach ($k in 0..2) {
            New-RequestFile -Path (Join-Path $WorkDir "scenario-q-$k.json") -Records @($records | Where-Object { [int]($_.id -replace '\D') % 3 -eq $k })
        }
        $rows = foreach ($run in 1..$Runs) {
            Reset-TestServer $Server
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $single = Receive-MeasuredProcess (Start-MeasuredProcess -RequestFile $whole)
            $singleSeconds = $clock.Elapsed.TotalSeconds
            $singleStats = Get-TestServerStats $Server

            Reset-TestServer $Server
            $quota = "$($redis.Address)/bench-$run"
            $clock.Restart()
            $started = foreach ($part in $parts) { Start-MeasuredProcess -RequestFile $part -SharedThrottle $quota }
            $shared = @(foreach ($process in $started) { Receive-MeasuredProcess $process })
            $sharedSeconds = $clock.Elapsed.TotalSeconds
            $sharedStats = Get-TestServerStats $Server
            $roundTrips = ($shared | Measure-Object sharedRoundTrips -Sum).Sum
            Write-Host ("  run $run  one process {0:N2} s (batch {1:N2} s)  three sharing {2:N2} s (batches {3})  in flight {4} / {5}  round trips per request {6:N2}" -f `
                    $singleSeconds, $single.elapsedSeconds, $sharedSeconds, (($shared.elapsedSeconds | ForEach-Object { $_.ToString('N2', $Invariant) }) -join ', '),
                $singleStats.maxInFlight, $sharedStats.maxInFlight, ($roundTrips / $count))
            [pscustomobject]@{
                SingleSeconds     = $singleSeconds
                SingleBatch       = $single.elapsedSeconds
                SingleMaxInFlight = $singleStats.maxInFlight
                SingleOk          = $single.succeeded
                SharedSeconds     = $sharedSeconds
                SharedBatch       = ($shared.elapsedSeconds | Measure-Object -Maximum).Maximum
                SharedMaxInFlight = $sharedStats.maxInFlight
                SharedOk          = ($shared | Measure-Object succeeded -Sum).Sum
                RoundTrips        = $roundTrips / $count
            }
        }
    }
    finally {
        Stop-TestRedis $redis
    }
    [pscustomobject]@{ Name = 'Q'; Count = $count; Rows = @($rows) }
}

function Format-ScenarioQ {
    param($Result)
    $rows = $Result.Rows
    $count = $Result.Count
    $bound = $count * $LatencyMs / 1000 / $ThrottleLimit
    "## Q: one quota shared on Redis, $($count.ToString('N0', $Invariant)) records at $LatencyMs ms, T = $ThrottleLimit"
    ''
    "The same records sent by one pwsh with ``-ThrottleLimit $ThrottleLimit``, and split in three parts sent by three pwsh processes at once,"
    "each with ``-ThrottleLimit $ThrottleLimit -SharedThrottle redis://127.0.0.1:port/name`` (one redis-server on loopback). *Whole*: from the"
    "first process's start to the last one's exit; *batch*: the pipeline's own time in the slowest process. Bound N·L/T = $(Format-Number $bound '0.000') s."
    "Round trips: requests each process sent to the store (its summary's ``SharedQuotaRoundTrips``), summed, per record. Medians of $Runs run(s)."
    ''
    '| Row | Whole (s) | Batch (s) | Max in flight at the server | Succeeded | Store round trips per request |'
    '|---|---:|---:|---:|---:|---:|'
    "| one process | $(Format-Number (Get-Median $rows.SingleSeconds) '0.00') | $(Format-Number (Get-Median $rows.SingleBatch) '0.00') | $(($rows.SingleMaxInFlight | Measure-Object -Maximum).Maximum) | $(Get-Median $rows.SingleOk) | – |"
    "| three processes, one quota | $(Format-Number (Get-Median $rows.SharedSeconds) '0.00') | $(Format-Number (Get-Median $rows.SharedBatch) '0.00') | $(($rows.SharedMaxInFlight | Measure-Object -Maximum).Maximum) | $(Get-Median $rows.SharedOk) | $(Format-Number (Get-Median $rows.RoundTrips) '0.00') |"
    ''
    $ratio = (Get-Median $rows.SharedSeconds) / (Get-Median $rows.SingleSeconds)
    Format-Check ($ratio -le 1.1) "Target: three processes sharing one quota within 1.1× of one process (whole, medians): $(Format-Number $ratio '0.00')×"
    $batchRatio = (Get-Median $rows.SharedBatch) / (Get-Median $rows.SingleBatch)
    Format-Check ($batchRatio -le 1.1) "Three processes sharing one quota within 1.1× of one process (slowest batch against the batch, medians): $(Format-Number $batchRatio '0.00')×"
    $highest = ($rows.SharedMaxInFlight | Measure-Object -Maximum).Maximum
    Format-Check ($highest -le $ThrottleLimit) "Three processes sharing one quota of $ThrottleLimit never had more than $ThrottleLimit in flight at the server (seen: $highest)"
    ''
}

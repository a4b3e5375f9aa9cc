<#
.SYNOPSIS
    Scenario Q of the benchmark: one quota shared on Redis. SharedCount records at LatencyMs split in three, sent by
    three pwsh processes at once under one -SharedThrottle of T, against one pwsh that sends them all with
    -ThrottleLimit T, every one the README's pipeline into Export-Csv. The processes start their batches together
    once all have imported the module; the store's round trips per request come from their summaries.
.DESCRIPTION
    Dot-sourced by bench/Invoke-Benchmark.ps1 (which defines $WorkDir, $ModulePath, $Runs, $ThrottleLimit,
    $SharedCount, $LatencyMs, $Quick, $Invariant, Format-Number, Get-Median, Format-Check, Get-PwshCommand and
    New-RequestFile). redis-server comes from its Debian package (tests/services.ps1), on a free loopback port.
#>

function Start-MeasuredProcess {
    <# Starts Measure-BatchRequestProcess.ps1 in a pwsh of its own, without waiting: returns the process and its output. #>
    param([string] $RequestFile, [string] $SharedThrottle, [string] $StartSignal)
    $pwsh = @(Get-PwshCommand)
    $start = [Diagnostics.ProcessStartInfo]::new($pwsh[0])
    $arguments = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'Measure-BatchRequestProcess.ps1'),
        '-ModulePath', $ModulePath, '-RequestFile', $RequestFile, '-ThrottleLimit', $ThrottleLimit,
        '-ExportCsvPath', "$RequestFile.csv", '-StartSignal', $StartSignal)
    if ($SharedThrottle) { $arguments += '-SharedThrottle', $SharedThrottle }
    foreach ($argument in $arguments) { $start.ArgumentList.Add([string]$argument) }
    $start.UseShellExecute = $false
    $start.RedirectStandardOutput = $true
    $process = [Diagnostics.Process]::Start($start)
    [pscustomobject]@{ Process = $process; Output = $process.StandardOutput.ReadToEndAsync() }
}

function Start-Together {
    <# Starts each part in a pwsh of its own; once every one has imported the module, lets their batches go at once. #>
    param([string[]] $RequestFiles, [string] $SharedThrottle)
    $signal = Join-Path $WorkDir "scenario-q-go-$([guid]::NewGuid().ToString('N'))"
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $started = @(foreach ($file in $RequestFiles) { Start-MeasuredProcess -RequestFile $file -SharedThrottle $SharedThrottle -StartSignal $signal })
    $deadline = [DateTime]::UtcNow.AddSeconds(120)
    while (@(Get-ChildItem -Path "$signal.*.ready").Count -lt $started.Count) {
        if ([DateTime]::UtcNow -gt $deadline -or @($started.Process | Where-Object HasExited).Count) { throw 'A process of scenario Q did not get ready.' }
        Start-Sleep -Milliseconds 5
    }
    $go = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds()
    [IO.File]::WriteAllText($signal, '')
    $reports = @(foreach ($process in $started) { Receive-MeasuredProcess $process })
    Remove-Item -Path "$signal*"
    [pscustomobject]@{
        Reports = $reports
        # From the signal to the end of the last batch: the fleet's time for the whole batch.
        Seconds = (($reports.batchEndedUnixMs | Measure-Object -Maximum).Maximum - $go) / 1000
        # From the first start to the last exit, start-ups and the wait for the signal included.
        Whole   = $clock.Elapsed.TotalSeconds
    }
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
            $single = Start-Together -RequestFiles $whole
            $singleStats = Get-TestServerStats $Server

            Reset-TestServer $Server
            $shared = Start-Together -RequestFiles $parts -SharedThrottle "$($redis.Address)/bench-$run"
            $sharedStats = Get-TestServerStats $Server
            $roundTrips = ($shared.Reports | Measure-Object sharedRoundTrips -Sum).Sum
            Write-Host ("  run $run  one process {0:N2} s  three sharing {1:N2} s (batches {2})  in flight {3} / {4}  round trips per request {5:N2}" -f `
                    $single.Seconds, $shared.Seconds, (($shared.Reports.elapsedSeconds | ForEach-Object { $_.ToString('N2', $Invariant) }) -join ', '),
                $singleStats.maxInFlight, $sharedStats.maxInFlight, ($roundTrips / $count))
            [pscustomobject]@{
                SingleSeconds     = $single.Seconds
                SingleWhole       = $single.Whole
                SingleMaxInFlight = $singleStats.maxInFlight
                SingleOk          = $single.Reports[0].succeeded
                SingleCsvRows     = @(Import-Csv -LiteralPath "$whole.csv").Count
                SharedSeconds     = $shared.Seconds
                SharedWhole       = $shared.Whole
                SharedMaxInFlight = $sharedStats.maxInFlight
                SharedOk          = ($shared.Reports | Measure-Object succeeded -Sum).Sum
                SharedCsvRows     = ($parts | ForEach-Object { @(Import-Csv -LiteralPath "$_.csv").Count } | Measure-Object -Sum).Sum
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
    "each with ``-ThrottleLimit $ThrottleLimit -SharedThrottle redis://127.0.0.1:port/name`` (one redis-server on loopback), every one"
    "``Import-RequestFile part.json | Invoke-BatchRequest … | Export-Csv part.csv``. Each process imports the module and waits; once all"
    "are ready their batches start together, so the time is the fleet's: from that start to the end of the last batch (three pwsh"
    "start-ups at once on two cores would otherwise be counted as the quota's cost; *whole* shows them, from the first start to the"
    "last exit). Bound N·L/T = $(Format-Number $bound '0.000') s."
    "Round trips: requests each process sent to the store (its summary's ``SharedQuotaRoundTrips``), summed, per record. Medians of $Runs run(s)."
    ''
    '| Row | Time (s) | × bound | Whole (s) | Max in flight at the server | Succeeded | CSV rows | Store round trips per request |'
    '|---|---:|---:|---:|---:|---:|---:|---:|'
    "| one process | $(Format-Number (Get-Median $rows.SingleSeconds) '0.00') | $(Format-Number ((Get-Median $rows.SingleSeconds) / $bound) '0.00') | $(Format-Number (Get-Median $rows.SingleWhole) '0.00') | $(($rows.SingleMaxInFlight | Measure-Object -Maximum).Maximum) | $(Get-Median $rows.SingleOk) | $(Get-Median $rows.SingleCsvRows) | – |"
    "| three processes, one quota | $(Format-Number (Get-Median $rows.SharedSeconds) '0.00') | $(Format-Number ((Get-Median $rows.SharedSeconds) / $bound) '0.00') | $(Format-Number (Get-Median $rows.SharedWhole) '0.00') | $(($rows.SharedMaxInFlight | Measure-Object -Maximum).Maximum) | $(Get-Median $rows.SharedOk) | $(Get-Median $rows.SharedCsvRows) | $(Format-Number (Get-Median $rows.RoundTrips) '0.00') |"
    ''
    $ratio = (Get-Median $rows.SharedSeconds) / (Get-Median $rows.SingleSeconds)
    Format-Check ($ratio -le 1.1) "Target: three processes sharing one quota within 1.1× of one process (medians): $(Format-Number $ratio '0.00')×"
    $highest = ($rows.SharedMaxInFlight | Measure-Object -Maximum).Maximum
    Format-Check ($highest -le $ThrottleLimit) "Three processes sharing one quota of $ThrottleLimit never had more than $ThrottleLimit in flight at the server (seen: $highest)"
    $written = @($rows | Where-Object { $_.SharedCsvRows -eq $count -and $_.SingleCsvRows -eq $count }).Count
    Format-Check ($written -eq $rows.Count) "Export-Csv wrote one row per record in $written of $($rows.Count) runs"
    ''
}

<#
.SYNOPSIS
    Scenario R of the benchmark: Export-BatchReport of a generated journal of ReportCount records (1,000,000), in a
    pwsh of its own, beside the same of a 1,000-record journal: time, peak working set, the report's size.
.DESCRIPTION
    Dot-sourced by bench/Invoke-Benchmark.ps1 (which defines $WorkDir, $ModulePath, $Runs, $Invariant, Format-Number,
    Get-Median, Get-PwshCommand). Also runs alone, after a build:
    dotnet pwsh ./bench/ReportScenario.ps1 -Alone -ReportCount 1000000
    The journal is written here, not by a batch: a first run killed with 40 records in flight after 60 % of them,
    2 % answered 503 twice before a success (with their retry lines), a Retry-After pause every 50,000 records,
    an adaptive limit change every 10,000, and a second run that resends the records left in flight.
#>
param(
    [switch] $Alone,
    [ValidateRange(1000, 10000000)] [int] $ReportCount = 1000000
)

function New-GeneratedJournal {
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [int] $Count)
    $writer = [IO.StreamWriter]::new($Path, $false, [Text.UTF8Encoding]::new($false), 1MB)
    try {
        $t0 = [DateTimeOffset]::new(2026, 1, 1, 2, 0, 0, [TimeSpan]::Zero)
        $ticks = $t0.UtcTicks
        function Format-Time([long] $at) { [DateTimeOffset]::new($at, [TimeSpan]::Zero).ToString('O', [Globalization.CultureInfo]::InvariantCulture) }
        $writer.WriteLine('{"event":"run","time":"' + (Format-Time $ticks) + '","batchId":"bench"}')
        $killAt = [int]($Count * 0.6)
        $open = [Collections.Generic.List[int]]::new()
        $limit = 40
        # 4,000 records a second, each answered 40 ms after it left.
        for ($i = 0; $i -lt $Count; $i++) {
            $sent = $ticks + $i * 2500L
            $id = "r$i"
            $uri = "http://api.example/orders/${i}?token=***"
            $writer.WriteLine('{"event":"sending","time":"' + (Format-Time $sent) + '","id":"' + $id + '","fingerprint":"f","method":"POST","uri":"' + $uri + '"}')
            if ($i -ge $killAt -and $i -lt $killAt + 40) { $open.Add($i); continue }
            $attempts = 1
            $took = 400000L
            if ($i % 50 -eq 7) {
                $attempts = 3
                $took = 3000000L
                foreach ($next in 2, 3) { $writer.WriteLine('{"event":"retry","time":"' + (Format-Time ($sent + ($next - 1) * 1000000L)) + '","id":"' + $id + '","attempts":' + $next + ',"delayMs":100}') }
            }
            if ($i % 50000 -eq 49999) { $writer.WriteLine('{"event":"pause","time":"' + (Format-Time $sent) + '","host":"api.example","resumeAt":"' + (Format-Time ($sent + 20000000L)) + '"}') }
            if ($i % 10000 -eq 9999) {
                $next = if ($limit -gt 20) { $limit - 3 } else { 40 }
                $writer.WriteLine('{"event":"limit","time":"' + (Format-Time $sent) + '","host":"api.example","limit":' + $next + ',"previousLimit":' + $limit + '}')
                $limit = $next
            }
            $ms = ($took / 10000.0).ToString('0.###', [Globalization.CultureInfo]::InvariantCulture)
            $writer.WriteLine('{"event":"result","time":"' + (Format-Time ($sent + $took)) + '","id":"' + $id + '","fingerprint":"f","method":"POST","uri":"' + $uri + '","status":"Succeeded","statusCode":200,"attempts":' + $attempts + ',"errorKind":"None","startTime":"' + (Format-Time $sent) + '","durationMs":' + $ms + '}')
        }
        $resumed = $ticks + $Count * 2500L + 36000000000L
        $writer.WriteLine('{"event":"run","time":"' + (Format-Time $resumed) + '","batchId":"bench"}')
        foreach ($i in $open) {
            $writer.WriteLine('{"event":"sending","time":"' + (Format-Time $resumed) + '","id":"r' + $i + '","fingerprint":"f","method":"POST","uri":"http://api.example/orders/' + $i + '?token=***"}')
            $writer.WriteLine('{"event":"result","time":"' + (Format-Time ($resumed + 400000L)) + '","id":"r' + $i + '","fingerprint":"f","method":"POST","uri":"http://api.example/orders/' + $i + '?token=***","status":"Succeeded","statusCode":200,"attempts":1,"errorKind":"None","startTime":"' + (Format-Time $resumed) + '","durationMs":40}')
        }
    }
    finally {
        $writer.Dispose()
    }
}

function Measure-ReportProcess {
    <# Export-BatchReport of one journal in a fresh pwsh: its seconds, its peak working set, the report's bytes. #>
    param([Parameter(Mandatory)] [string] $Journal, [Parameter(Mandatory)] [string] $Report)
    $script = {
        param($ModulePath, $Journal, $Report)
        $ErrorActionPreference = 'Stop'
        Import-Module $ModulePath
        $clock = [Diagnostics.Stopwatch]::StartNew()
        Export-BatchReport -JournalPath $Journal -LiteralPath $Report
        $clock.Stop()
        $self = [Diagnostics.Process]::GetCurrentProcess()
        $self.Refresh()
        [pscustomobject]@{ Seconds = $clock.Elapsed.TotalSeconds; PeakWorkingSet = $self.PeakWorkingSet64; Bytes = (Get-Item -LiteralPath $Report).Length } | ConvertTo-Json -Compress
    }
    $pwsh = @(Get-PwshCommand)
    $output = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $script -args $ModulePath, $Journal, $Report
    if ($LASTEXITCODE -ne 0) { throw "Export-BatchReport failed ($LASTEXITCODE): $output" }
    @($output)[-1] | ConvertFrom-Json
}

function Invoke-ScenarioR {
    param($Server)
    $count = if ($Quick) { 10000 } else { $ReportCount }
    Write-Host "R: Export-BatchReport of a generated journal of $count records, $Runs runs, beside a 1,000-record journal"
    $big = Join-Path $WorkDir "report-$count.ndjson"
    $small = Join-Path $WorkDir 'report-1000.ndjson'
    New-GeneratedJournal -Path $big -Count $count
    New-GeneratedJournal -Path $small -Count 1000
    $rows = foreach ($run in 1..$Runs) {
        foreach ($journal in $small, $big) {
            $measured = Measure-ReportProcess -Journal $journal -Report ([IO.Path]::ChangeExtension($journal, '.html'))
            [pscustomobject]@{ Records = if ($journal -eq $big) { $count } else { 1000 }; JournalBytes = (Get-Item -LiteralPath $journal).Length
                Seconds = $measured.Seconds; PeakWorkingSet = $measured.PeakWorkingSet; Bytes = $measured.Bytes }
        }
    }
    [pscustomobject]@{ Name = 'R'; Rows = @($rows) }
}

function Format-ScenarioR {
    param($Result)
    '## R: a report of a big journal'
    ''
    'Export-BatchReport -JournalPath in a pwsh of its own (time of the cmdlet alone; peak working set of the whole process, pwsh included); medians over the runs.'
    ''
    '| Records in the journal | Journal | Time | Peak working set | Report |'
    '|---:|---:|---:|---:|---:|'
    foreach ($group in $Result.Rows | Group-Object Records | Sort-Object { [int]$_.Name }) {
        $rows = $group.Group
        "| $(([int]$group.Name).ToString('N0', $Invariant)) | $(Format-Number ($rows[0].JournalBytes / 1MB) '0') MB | $(Format-Number (Get-Median $rows.Seconds) '0.0') s | $(Format-Number ((Get-Median $rows.PeakWorkingSet) / 1MB) '0') MB | $(Format-Number ((Get-Median $rows.Bytes) / 1KB) '0') KB |"
    }
    ''
}

if ($Alone) {
    $ErrorActionPreference = 'Stop'
    . (Join-Path $PSScriptRoot '../tests/common.ps1')
    $Invariant = [Globalization.CultureInfo]::InvariantCulture
    $ModulePath = Get-BuiltModulePath
    $WorkDir = Join-Path ([IO.Path]::GetTempPath()) 'batchrequest-bench-report'
    $null = New-Item -ItemType Directory -Path $WorkDir -Force
    $Runs = 1
    $Quick = $false
    function Format-Number($Value, [string] $Format) { ([double]$Value).ToString($Format, $Invariant) }
    function Get-Median([object[]] $Values) { $sorted = @($Values | Sort-Object); $sorted[[int][math]::Floor(($sorted.Count - 1) / 2)] }
    Format-ScenarioR (Invoke-ScenarioR)
}

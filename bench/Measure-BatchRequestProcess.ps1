<#
.SYNOPSIS
    BatchRequest in a process of its own, for the benchmark: whole-process time (scenarios A, B and D), peak
    working set (scenario C) and the cost of a cold start (scenario S).
.DESCRIPTION
    Imports the built module, streams the request file through Import-RequestFile | Invoke-BatchRequest and counts
    the result objects with Measure-Object, so nothing is collected; with -ExportCsvPath the results go to
    Export-Csv instead, the pipeline of the README. Prints one JSON line: count (result objects; null under
    -ExportCsvPath), succeeded (from the batch summary), elapsedSeconds (the pipeline alone), baselineWorkingSet
    (after Import-Module, before the batch), peakWorkingSet (Process.PeakWorkingSet64) and vmHwmBytes (VmHWM of
    /proc/self/status, the same high-water mark as the kernel reports it). From the summary also total, retries,
    concurrencyLimit, concurrencyLimitLowest, concurrencyLimitHighest, sharedSlotsHighest and sharedRoundTrips; batchStartedUnixMs and batchEndedUnixMs, the batch's
    start and end on the wall clock, for lining up processes that run at once. For the cold start: importSeconds
    (Import-Module alone), startedSeconds (from this script's first line to the batch's end, Import-Module
    included), and jittedMethods and jitMilliseconds, what the JIT compiled over that same span, on every thread
    (System.Runtime.JitInfo).
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $RequestFile,
    [Parameter(Mandatory)] [int] $ThrottleLimit,

    # -ThrottleLimit becomes the ceiling of the adaptive per-host limit (scenarios A and D).
    [switch] $AdaptiveThrottle,

    # Retries per record; the module's default when not given (scenario D raises it so that every record gets
    # through a server that turns attempts away).
    [ValidateRange(0, 100)] [int] $MaximumRetryCount,

    # The results are written to this CSV file rather than counted (scenarios D and S).
    [string] $ExportCsvPath,

    # A quota shared with other processes (scenario Q); its store's round trips are reported.
    [string] $SharedThrottle,

    # The floor of scenario B: the same file read and written (Import-RequestFile | Export-Csv) with no request
    # sent, what PowerShell itself needs for the pipeline in a fresh process. Needs -ExportCsvPath.
    [switch] $NoSend,

    # Scenario Q: after Import-Module, writes <StartSignal>.<pid>.ready and waits until this file exists, so that
    # several processes start their batches together and pwsh start-ups are not counted as the quota's cost.
    [string] $StartSignal
)

# Before anything else, so that the cold start counts Import-Module and all that follows.
$started = [Diagnostics.Stopwatch]::StartNew()
$jittedAtStart = [System.Runtime.JitInfo]::GetCompiledMethodCount($false)
$jitTimeAtStart = [System.Runtime.JitInfo]::GetCompilationTime($false)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module $ModulePath
$importSeconds = $started.Elapsed.TotalSeconds
$self = [Diagnostics.Process]::GetCurrentProcess()
$baseline = $self.WorkingSet64

# Records that fail are counted by the summary; their error records must not stop the batch.
$batch = @{ ThrottleLimit = $ThrottleLimit; ErrorAction = 'SilentlyContinue'; InformationVariable = 'information' }
if ($AdaptiveThrottle) { $batch.AdaptiveThrottle = $true }
if ($PSBoundParameters.ContainsKey('MaximumRetryCount')) { $batch.MaximumRetryCount = $MaximumRetryCount }
if ($SharedThrottle) { $batch.SharedThrottle = $SharedThrottle }

if ($StartSignal) {
    [IO.File]::WriteAllText("$StartSignal.$PID.ready", '')
    while (-not [IO.File]::Exists($StartSignal)) { Start-Sleep -Milliseconds 2 }
}

$batchStarted = [DateTimeOffset]::UtcNow
$clock = [Diagnostics.Stopwatch]::StartNew()
if ($NoSend) {
    Import-RequestFile -LiteralPath $RequestFile | Export-Csv -LiteralPath $ExportCsvPath
    $count = $null
}
elseif ($ExportCsvPath) {
    Import-RequestFile -LiteralPath $RequestFile | Invoke-BatchRequest @batch | Export-Csv -LiteralPath $ExportCsvPath
    $count = $null
}
else {
    $count = (Import-RequestFile -LiteralPath $RequestFile | Invoke-BatchRequest @batch | Measure-Object).Count
}
$clock.Stop()
$batchEnded = [DateTimeOffset]::UtcNow
$startedSeconds = $started.Elapsed.TotalSeconds
$jitted = [System.Runtime.JitInfo]::GetCompiledMethodCount($false) - $jittedAtStart
$jitTime = [System.Runtime.JitInfo]::GetCompilationTime($false) - $jitTimeAtStart

# What follows the batch counts in the whole-process time, so it uses no cmdlet the batch has not loaded already:
# in a fresh pwsh ConvertTo-Json, Where-Object and Get-Content cost 0.15 s at first use, more than pwsh's own exit.
$summary = $null
foreach ($record in $information) {
    if ($record.Tags -contains 'BatchSummary') { $summary = $record.MessageData }
}
$self.Refresh()
$hwm = $null
foreach ($line in [IO.File]::ReadAllLines('/proc/self/status')) {
    if ($line.StartsWith('VmHWM:')) { $hwm = 1024 * [long]($line -replace '\D', '') }
}
$report = [ordered]@{
    count                   = $count
    succeeded               = ${summary}?.Succeeded
    elapsedSeconds          = $clock.Elapsed.TotalSeconds
    baselineWorkingSet      = $baseline
    peakWorkingSet          = $self.PeakWorkingSet64
    vmHwmBytes              = $hwm
    total                   = ${summary}?.Total
    retries                 = ${summary}?.Retries
    concurrencyLimit        = ${summary}?.ConcurrencyLimit
    concurrencyLimitLowest  = ${summary}?.ConcurrencyLimitLowest
    concurrencyLimitHighest = ${summary}?.ConcurrencyLimitHighest
    importSeconds           = $importSeconds
    startedSeconds          = $startedSeconds
    jittedMethods           = $jitted
    jitMilliseconds         = $jitTime.TotalMilliseconds
    sharedSlotsHighest      = ${summary}?.SharedSlotsHighest
    sharedRoundTrips        = ${summary}?.SharedQuotaRoundTrips
    batchStartedUnixMs      = $batchStarted.ToUnixTimeMilliseconds()
    batchEndedUnixMs        = $batchEnded.ToUnixTimeMilliseconds()
}
# Every value is a number or null: one JSON line written by hand.
$fields = foreach ($entry in $report.GetEnumerator()) {
    $value = if ($null -eq $entry.Value) { 'null' } else { ([IFormattable]$entry.Value).ToString($null, [Globalization.CultureInfo]::InvariantCulture) }
    '"' + $entry.Key + '":' + $value
}
'{' + ($fields -join ',') + '}'

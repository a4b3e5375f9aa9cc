<#
.SYNOPSIS
    BatchRequest in a process of its own, for the benchmark: whole-process time (scenarios A and B) and peak
    working set (scenario C).
.DESCRIPTION
    Imports the built module, streams the request file through Import-RequestFile | Invoke-BatchRequest and counts
    the result objects with Measure-Object, so nothing is collected. Prints one JSON line: count (result objects),
    succeeded (from the batch summary), elapsedSeconds (the pipeline alone), baselineWorkingSet (after
    Import-Module, before the batch), peakWorkingSet (Process.PeakWorkingSet64) and vmHwmBytes (VmHWM of
    /proc/self/status, the same high-water mark as the kernel reports it).
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $RequestFile,
    [Parameter(Mandatory)] [int] $ThrottleLimit
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module $ModulePath
$self = [Diagnostics.Process]::GetCurrentProcess()
$baseline = $self.WorkingSet64

$clock = [Diagnostics.Stopwatch]::StartNew()
# Records that fail are counted by the summary; their error records must not stop the batch.
$measured = Import-RequestFile -LiteralPath $RequestFile |
    Invoke-BatchRequest -ThrottleLimit $ThrottleLimit -ErrorAction SilentlyContinue -InformationVariable information |
    Measure-Object
$clock.Stop()

$summary = $information | Where-Object { $_.Tags -contains 'BatchSummary' } | Select-Object -Last 1
$self.Refresh()
$hwm = Get-Content -LiteralPath /proc/self/status -ErrorAction Ignore | Where-Object { $_ -like 'VmHWM:*' } | Select-Object -First 1
[ordered]@{
    count              = $measured.Count
    succeeded          = if ($summary) { $summary.MessageData.Succeeded } else { $null }
    elapsedSeconds     = $clock.Elapsed.TotalSeconds
    baselineWorkingSet = $baseline
    peakWorkingSet     = $self.PeakWorkingSet64
    vmHwmBytes         = if ($hwm) { 1024 * [long]($hwm -replace '\D', '') } else { $null }
} | ConvertTo-Json -Compress

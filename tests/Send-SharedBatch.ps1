<#
.SYNOPSIS
    Child process of the shared quota tests: sends a request file under -SharedThrottle and prints one JSON line
    with the results (Id, Status, ErrorKind) and the batch summary.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $RequestFile,
    [Parameter(Mandatory)] [string] $Quota,
    [Parameter(Mandatory)] [int] $ThrottleLimit,
    [double] $RequestsPerSecond,
    [int] $MaximumRetryCount = 3,
    [switch] $AdaptiveThrottle,

    # Sent once before the batch, under the same quota: a fresh process's first send is late by the time its code
    # takes to compile, and a late start bunches up with the punctual ones after it.
    [string] $WarmUpUri
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module $ModulePath
$batch = @{ SharedThrottle = $Quota; ThrottleLimit = $ThrottleLimit; MaximumRetryCount = $MaximumRetryCount; RetryIntervalSec = 0.05 }
if ($RequestsPerSecond) { $batch.RequestsPerSecond = $RequestsPerSecond }
if ($AdaptiveThrottle) { $batch.AdaptiveThrottle = $true }
if ($WarmUpUri) { New-BatchRequest -Uri $WarmUpUri -Id "warm-up-$PID" | Invoke-BatchRequest @batch | Out-Null }
$results = @(Import-RequestFile $RequestFile | Invoke-BatchRequest @batch -ErrorAction SilentlyContinue -InformationVariable information)
$summary = $information | Where-Object { $_.Tags -contains 'BatchSummary' } | Select-Object -Last 1 -ExpandProperty MessageData
[ordered]@{
    Results = @($results | ForEach-Object { [ordered]@{ Id = $_.Id; Status = $_.Status; ErrorKind = $_.ErrorKind } })
    Summary = [ordered]@{
        SharedQuota = $summary.SharedQuota; SharedSlotsHighest = $summary.SharedSlotsHighest
        SharedQuotaRoundTrips = $summary.SharedQuotaRoundTrips; ConcurrencyLimit = $summary.ConcurrencyLimit
    }
} | ConvertTo-Json -Depth 4 -Compress

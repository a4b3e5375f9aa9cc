<#
.SYNOPSIS
    Peer of the BatchRequest benchmark: GETs every URL of a file with ForEach-Object -Parallel { Invoke-RestMethod }.
.DESCRIPTION
    Runs in its own pwsh (the pinned .NET tool). Prints one JSON line: count, ok (answers turned into objects) and
    elapsedSeconds, the time of the pipeline alone; the results are collected as objects, as a user would.
#>
param(
    [Parameter(Mandatory)] [string] $UrlFile,
    [Parameter(Mandatory)] [int] $ThrottleLimit
)

$ErrorActionPreference = 'Continue'
$ProgressPreference = 'SilentlyContinue'
$urls = [IO.File]::ReadAllLines($UrlFile) | Where-Object { $_ }

$clock = [Diagnostics.Stopwatch]::StartNew()
$results = $urls | ForEach-Object -Parallel { Invoke-RestMethod -Uri $_ } -ThrottleLimit $ThrottleLimit
$clock.Stop()

$ok = @($results).Count
[ordered]@{ count = @($urls).Count; ok = $ok; failed = @($urls).Count - $ok; elapsedSeconds = $clock.Elapsed.TotalSeconds } |
    ConvertTo-Json -Compress

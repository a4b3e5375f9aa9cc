#Requires -Version 7.4

<#
.SYNOPSIS
    Sends a request file to an API that allows a fixed number of requests per second.
.DESCRIPTION
    Two limits work together here. -RequestsPerSecond caps how many attempts start each second, retries included:
    that is what an API's published limit counts. -ThrottleLimit caps how many requests are in flight at once, and
    it must be at least the rate times the API's latency, or the rate is never reached: at 5 requests per second and
    2 seconds per answer, 10 requests are in flight. The script works the throttle out from -RequestsPerSecond and
    -LatencySec, with a quarter more for slow answers.

    When the API still answers 429 with Retry-After, every request to it waits as long as it asks, up to
    -MaximumRetryAfterSec; a record asked to wait longer ends as Throttled, and the script says so.

    At the end it prints the batch's summary: counts, retries, elapsed time, the rate reached and latency percentiles.
.EXAMPLE
    ./rate-limited-api.ps1 -WhatIf
.EXAMPLE
    ./rate-limited-api.ps1 -Path ./orders.ndjson -RequestsPerSecond 10 -LatencySec 0.5
.EXAMPLE
    ./rate-limited-api.ps1 -RequestsPerSecond 0.5 -LatencySec 3

    One request every two seconds, for the strictest APIs.
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [string] $Path = (Join-Path $PSScriptRoot 'orders.ndjson'),

    # The API's limit; fractions allowed.
    [ValidateRange(0.001, 10000)]
    [double] $RequestsPerSecond = 5,

    # How long the API usually takes to answer, in seconds.
    [ValidateRange(0.001, 600)]
    [double] $LatencySec = 2,

    # Longest Retry-After to wait for, in seconds.
    [ValidateRange(0, 86400)]
    [double] $MaximumRetryAfterSec = 300
)

$ErrorActionPreference = 'Stop'

# Not '#Requires -Modules BatchRequest', which refuses a new session (pwsh -File, a scheduler) where BatchRequest is
# imported by path rather than installed: the module already loaded, else the installed one, else the build beside
# these examples.
if (-not (Get-Module BatchRequest)) {
    $built = Join-Path $PSScriptRoot '../out/BatchRequest/BatchRequest.psd1'
    Import-Module $(if (-not (Get-Module BatchRequest -ListAvailable) -and (Test-Path -LiteralPath $built)) { $built } else { 'BatchRequest' })
}

# In flight at the full rate: rate times latency, and a quarter more for slow answers.
$throttle = [int][math]::Min(1024, [math]::Max(1, [math]::Ceiling($RequestsPerSecond * $LatencySec * 1.25)))
Write-Host "At most $RequestsPerSecond requests per second, $throttle in flight."

$results = @(Import-RequestFile -LiteralPath $Path |
        Invoke-BatchRequest -RequestsPerSecond $RequestsPerSecond -ThrottleLimit $throttle `
            -MaximumRetryAfterSec $MaximumRetryAfterSec -ErrorAction SilentlyContinue -InformationVariable information)

# Invoke-BatchRequest writes its summary to the information stream when the batch ends.
$summary = ($information | Where-Object Tags -Contains 'BatchSummary').MessageData
$summary | Format-List Total, Succeeded, Failed, Throttled, Retries, Elapsed, RecordsPerSecond, LatencyP50, LatencyP95 | Out-Host

$throttled = @($results | Where-Object Status -EQ 'Throttled')
if ($throttled.Count) {
    Write-Warning ("{0} records were asked to wait longer than {1} s; send them later, or raise -MaximumRetryAfterSec." -f $throttled.Count, $MaximumRetryAfterSec)
}

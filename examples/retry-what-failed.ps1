#Requires -Version 7.4

<#
.SYNOPSIS
    Sends a request file, then retries exactly the records that did not succeed, for a few rounds.
.DESCRIPTION
    Each round sends its records with -FailedPath: every record that does not succeed is written to a failed-records
    file, as NDJSON request records with the idempotency key it was sent with. The next round imports that file, so it
    sends only those records, with the same keys. The rounds end when one leaves no failed-records file (everything
    succeeded), or after -Rounds rounds; the last failed-records file is kept for a person to look at.

    Between rounds the script waits -PauseSec, which gives a struggling API time to recover; within a round
    Invoke-BatchRequest already retries what is worth retrying.

    -IdempotencyKeyHeader makes the POSTs safe to send again: the server sees the same key on every attempt and in
    every round and applies each order once. Without such a header, a POST that may have reached the server ends as
    OutcomeUnknown; retrying it could create the order twice.

    A record that failed with an answer such as 400 or 404 fails the same way again: fix the record, not the rounds.
.EXAMPLE
    ./retry-what-failed.ps1

    Sends orders.json, then retries what failed, up to three rounds a minute apart.
.EXAMPLE
    ./retry-what-failed.ps1 -Path ./orders.ndjson -Rounds 5 -PauseSec 300 -WorkDir ./retries
.EXAMPLE
    Import-RequestFile ./retries/orders.failed-3.ndjson | Format-Table Id, Method, Uri

    Looks at what was still failing after the last round.
#>
[CmdletBinding()]
param(
    # The request file of the first round.
    [string] $Path = (Join-Path $PSScriptRoot 'orders.json'),

    # Where the failed-records file of each round is written.
    [string] $WorkDir = '.',

    # Rounds at most, the first one included.
    [ValidateRange(1, 20)]
    [int] $Rounds = 3,

    # Wait between two rounds, in seconds.
    [ValidateRange(0, 86400)]
    [int] $PauseSec = 60,

    [ValidateRange(1, 1024)]
    [int] $ThrottleLimit = 20
)

$ErrorActionPreference = 'Stop'

# Not '#Requires -Modules BatchRequest', which refuses a new session (pwsh -File, a scheduler) where BatchRequest is
# imported by path rather than installed: the module already loaded, else the installed one, else the build beside
# these examples.
if (-not (Get-Module BatchRequest)) {
    $built = Join-Path $PSScriptRoot '../out/BatchRequest/BatchRequest.psd1'
    Import-Module $(if (-not (Get-Module BatchRequest -ListAvailable) -and (Test-Path -LiteralPath $built)) { $built } else { 'BatchRequest' })
}
$null = New-Item -ItemType Directory -Path $WorkDir -Force
$name = [IO.Path]::GetFileNameWithoutExtension($Path)
$source = $Path

for ($round = 1; $round -le $Rounds; $round++) {
    $failedPath = Join-Path $WorkDir "$name.failed-$round.ndjson"
    Write-Host "Round $($round): sending $source"

    $results = @(Import-RequestFile -LiteralPath $source |
            Invoke-BatchRequest -ThrottleLimit $ThrottleLimit -IdempotencyKeyHeader 'Idempotency-Key' `
                -FailedPath $failedPath -ErrorAction SilentlyContinue)
    $results | Group-Object Status -NoElement | Format-Table Name, Count -AutoSize | Out-Host

    # The failed-records file exists only when a record did not succeed.
    if (-not (Test-Path -LiteralPath $failedPath)) {
        Write-Host 'Every record succeeded.'
        exit 0
    }

    $source = $failedPath
    if ($round -lt $Rounds) {
        Write-Host "Waiting $PauseSec s before round $($round + 1)..."
        Start-Sleep -Seconds $PauseSec
    }
}

Write-Warning "Records still failing after $Rounds rounds are in $source"
Import-RequestFile -LiteralPath $source | Format-Table Id, Method, Uri -AutoSize | Out-Host
exit 1

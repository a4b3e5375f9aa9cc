<#
.SYNOPSIS
    Child process of the journal kill tests: sends a request file at -ThrottleLimit 40 with a journal, until the
    test kills it.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $RequestFile,
    [Parameter(Mandatory)] [string] $JournalPath,
    [string] $IdempotencyKeyHeader
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$keyed = if ($IdempotencyKeyHeader) { @{ IdempotencyKeyHeader = $IdempotencyKeyHeader } } else { @{} }
Import-RequestFile $RequestFile | Invoke-BatchRequest -ThrottleLimit 40 -JournalPath $JournalPath @keyed | Out-Null

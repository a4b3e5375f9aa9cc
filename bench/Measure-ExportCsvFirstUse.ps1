<#
.SYNOPSIS
    What PowerShell itself needs in a fresh pwsh for the first object Export-Csv writes, which the batch clock of an
    own-process run includes: scenario A's reference for its 1.10× target.
.DESCRIPTION
    After Import-Module of the built module (as in bench/Measure-BatchRequestProcess.ps1), times Export-Csv writing
    one object made beforehand: the autoload of its module, Microsoft.PowerShell.Utility, which comes before any
    command of the pipeline starts, and its first record. Nothing is sent. Prints one JSON line: firstUseMs.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $CsvPath
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$record = [pscustomobject]@{ Id = 'a-1'; Status = 'Succeeded' }

$clock = [Diagnostics.Stopwatch]::StartNew()
$record | Export-Csv -LiteralPath $CsvPath
$firstUseMs = $clock.Elapsed.TotalMilliseconds

@{ firstUseMs = $firstUseMs } | ConvertTo-Json -Compress

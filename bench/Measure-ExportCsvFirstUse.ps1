<#
.SYNOPSIS
    What PowerShell itself needs in a fresh pwsh before Export-Csv writes anything, which the batch clock of an
    own-process run includes: scenario A's reference for its 1.10× target.
.DESCRIPTION
    After Import-Module of the built module (as in bench/Measure-BatchRequestProcess.ps1), times an empty pipeline
    into Export-Csv: the autoload of its module, Microsoft.PowerShell.Utility, and the command made, begun and
    ended, which a pipeline ending in Export-Csv goes through before any of its commands sees a record. Then one
    object made beforehand written by it. Nothing is sent. Prints one JSON line: emptyPipelineMs, firstObjectMs.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $CsvPath
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$record = [pscustomobject]@{ Id = 'a-1'; Status = 'Succeeded' }

$clock = [Diagnostics.Stopwatch]::StartNew()
@() | Export-Csv -LiteralPath $CsvPath
$emptyPipelineMs = $clock.Elapsed.TotalMilliseconds
$clock.Restart()
$record | Export-Csv -LiteralPath $CsvPath
$firstObjectMs = $clock.Elapsed.TotalMilliseconds

[ordered]@{ emptyPipelineMs = $emptyPipelineMs; firstObjectMs = $firstObjectMs } | ConvertTo-Json -Compress

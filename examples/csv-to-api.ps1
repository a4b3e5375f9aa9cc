#Requires -Version 7.4

<#
.SYNOPSIS
    Sends one request per row of a spreadsheet export (CSV) to a REST API, and saves one result row per request.
.DESCRIPTION
    new-users.csv is what a spreadsheet saves: the columns Id and Method, then plain data (DisplayName, Email,
    Department). -UriTemplate and -BodyTemplate turn every row into a request: {Column} placeholders are filled from the
    row, URL-encoded in the URI and JSON-escaped inside the JSON body, so names with quotes, commas, ampersands or
    accents arrive intact. The rows use PUT, which is idempotent, so every failure worth retrying is retried.

    A CSV that already holds request columns (Id, Method, Uri, Body, ContentType, Header.<Name>, as users.csv does)
    needs no templates: run this script with -UriTemplate '' -BodyTemplate ''.

    The results stream into -ResultPath as the requests complete; the script ends with exit code 1 when a row did not
    succeed, so a scheduler or a CI job sees it.
.EXAMPLE
    ./csv-to-api.ps1 -WhatIf

    Shows every request the rows make, and sends none.
.EXAMPLE
    ./csv-to-api.ps1 -Path ./hr-export.csv -Token (Read-Host -AsSecureString 'API token') -ThrottleLimit 20
.EXAMPLE
    ./csv-to-api.ps1 -Path ./users.csv -UriTemplate '' -BodyTemplate '' -ResultPath ./users-results.csv
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    # The spreadsheet export: a header row, then one request per row.
    [string] $Path = (Join-Path $PSScriptRoot 'new-users.csv'),

    # Where each row goes. Empty for a CSV with a Uri column.
    [AllowEmptyString()]
    [string] $UriTemplate = 'https://api.example.com/v1/users/{Id}',

    # What each row sends. Empty for a CSV with a Body column, or none.
    [AllowEmptyString()]
    [string] $BodyTemplate = '{ "displayName": "{DisplayName}", "email": "{Email}", "department": "{Department}" }',

    # The API's bearer token, for instance (Get-Secret UsersApiToken) with Microsoft.PowerShell.SecretManagement.
    [securestring] $Token,

    # One row per request: Id, Method, Uri, Status, StatusCode, Attempts, DurationMs, ErrorKind, Error.
    [string] $ResultPath = 'users-results.csv',

    [ValidateRange(1, 1024)]
    [int] $ThrottleLimit = 10
)

$ErrorActionPreference = 'Stop'

# Not '#Requires -Modules BatchRequest', which refuses a new session (pwsh -File, a scheduler) where BatchRequest is
# imported by path rather than installed: the module already loaded, else the installed one, else the build beside
# these examples.
if (-not (Get-Module BatchRequest)) {
    $built = Join-Path $PSScriptRoot '../out/BatchRequest/BatchRequest.psd1'
    Import-Module $(if (-not (Get-Module BatchRequest -ListAvailable) -and (Test-Path -LiteralPath $built)) { $built } else { 'BatchRequest' })
}

$import = @{ LiteralPath = $Path }
if ($UriTemplate) { $import.UriTemplate = $UriTemplate }
if ($BodyTemplate) { $import.BodyTemplate = $BodyTemplate }

$send = @{ ThrottleLimit = $ThrottleLimit }
if ($Token) { $send.Token = $Token }

# A row that fails is a result with its status, not a reason to stop the batch: the errors stay quiet here and the
# results say what happened.
Import-RequestFile @import |
    Invoke-BatchRequest @send -ErrorAction SilentlyContinue |
    Tee-Object -Variable results |
    Select-Object Id, Method, Uri, Status, StatusCode, Attempts, DurationMs, ErrorKind, Error |
    Export-Csv -LiteralPath $ResultPath -NoTypeInformation

$results = @($results)
$failed = @($results | Where-Object Status -NE 'Succeeded')
Write-Host ('{0} rows sent: {1} succeeded, {2} did not. Results in {3}' -f $results.Count, ($results.Count - $failed.Count), $failed.Count, $ResultPath)
if ($failed.Count) {
    $failed | Format-Table Id, Status, StatusCode, Error -AutoSize | Out-Host
    exit 1
}

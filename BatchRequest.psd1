@{
    RootModule           = 'bin/BatchRequest.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6707225e-8870-4a4f-af4d-d63fa09c2e2d'
    Author               = 'BatchRequest developers'
    CompanyName          = 'BatchRequest'
    Copyright            = '(c) BatchRequest developers. MIT License.'
    Description          = 'Sends the records of request files (JSON, NDJSON, CSV, .http) to HTTP APIs concurrently, throttled and retried, and emits one result per record.'

    # The shipped binaries target .NET 8, the runtime of PowerShell 7.4.
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')

    FormatsToProcess     = @('BatchRequest.Format.ps1xml')
    TypesToProcess       = @('BatchRequest.Types.ps1xml')

    CmdletsToExport      = @(
        'Export-BatchReport'
        'Import-BatchJournal'
        'Import-RequestFile'
        'Invoke-BatchRequest'
        'Measure-BatchResult'
        'New-BatchRequest'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()

    PrivateData          = @{
        PSData = @{
            Tags       = @('HTTP', 'REST', 'API', 'Batch', 'Concurrency', 'Retry', 'Throttle')
            LicenseUri = 'https://opensource.org/licenses/MIT'
        }
    }
}

# The examples folder: scripts that parse and document themselves, and request files that are what they claim to be.
# The scripts are parsed, and each is also run as the README says, in a child pwsh against the loopback test server.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $examples = Join-Path (Split-Path -Parent $PSScriptRoot) 'examples'
    $ScriptCases = @(Get-ChildItem -LiteralPath $examples -Filter '*.ps1' | ForEach-Object { @{ Name = $_.Name; Path = $_.FullName } })

    # Each script twice: after Import-Module by path (the README's quick start), and with pwsh -File in a new session.
    $RunCases = foreach ($case in $ScriptCases) {
        foreach ($mode in 'after Import-Module by path', 'with pwsh -File') { @{ Name = $case.Name; Path = $case.Path; Mode = $mode } }
    }

    $RequestFileCases = @(
        @{ Name = 'orders.json'; Import = @{}; Count = 5 }
        @{ Name = 'orders-with-defaults.json'; Import = @{}; Count = 4 }
        @{ Name = 'orders.ndjson'; Import = @{}; Count = 5 }
        @{ Name = 'users.csv'; Import = @{}; Count = 4 }
        @{
            Name = 'new-users.csv'; Count = 4
            Import = @{
                UriTemplate  = 'https://api.example.com/v1/users/{Id}'
                BodyTemplate = '{ "displayName": "{DisplayName}", "email": "{Email}", "department": "{Department}" }'
            }
        }
        @{ Name = 'api.http'; Import = @{}; Count = 4 }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $script:Examples = Join-Path $RepoRoot 'examples'

    # The parameters docs/help documents for each cmdlet.
    $script:Documented = @{}
    foreach ($file in Get-ChildItem -LiteralPath (Join-Path $RepoRoot 'docs/help') -Filter '*-*.md') {
        $Documented[$file.BaseName] = @(Select-String -LiteralPath $file.FullName -Pattern '^### -(\w+)\s*$' |
                ForEach-Object { $_.Matches[0].Groups[1].Value })
    }
}

Describe 'Example script <Name>' -ForEach $ScriptCases {
    BeforeAll {
        $tokens = $errors = $null
        $script:Ast = [Management.Automation.Language.Parser]::ParseFile($Path, [ref] $tokens, [ref] $errors)
        $script:ParseErrors = $errors
    }

    It 'parses without errors' {
        $ParseErrors | Should -BeNullOrEmpty
    }

    It 'has help with a synopsis and an example' {
        $help = $Ast.GetHelpContent()
        $help | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Examples.Count | Should -BeGreaterThan 0
    }

    It 'uses only documented parameters of the BatchRequest cmdlets' {
        $calls = $Ast.FindAll({ param($node) $node -is [Management.Automation.Language.CommandAst] -and $Documented.ContainsKey($node.GetCommandName()) }, $true)
        $calls | Should -Not -BeNullOrEmpty
        foreach ($call in $calls) {
            $known = $Documented[$call.GetCommandName()] + [Management.Automation.PSCmdlet]::CommonParameters
            foreach ($parameter in $call.CommandElements | Where-Object { $_ -is [Management.Automation.Language.CommandParameterAst] }) {
                $known | Should -Contain $parameter.ParameterName -Because "$($call.GetCommandName()) in $Name"
            }
        }
    }
}

Describe 'Example request file <Name>' -ForEach $RequestFileCases {
    It 'imports to <Count> records with ids of their own' {
        $import = $Import
        $records = @(Import-RequestFile -LiteralPath (Join-Path $Examples $Name) @import)
        $records.Count | Should -Be $Count
        $records.Id | Where-Object { $_ -like "$Name#*" } | Should -BeNullOrEmpty
        $records.Uri.Host | Sort-Object -Unique | Should -Be 'api.example.com'
    }
}

Describe 'Example request files' {
    It 'are valid JSON: <Name>' -TestCases @(
        @{ Name = 'orders.json' }
        @{ Name = 'orders-with-defaults.json' }
    ) {
        { Get-Content -LiteralPath (Join-Path $Examples $Name) -Raw | ConvertFrom-Json } | Should -Not -Throw
    }

    It 'are one JSON object a line: orders.ndjson' {
        foreach ($line in Get-Content -LiteralPath (Join-Path $Examples 'orders.ndjson')) {
            ($line | ConvertFrom-Json) | Should -BeOfType [pscustomobject]
        }
    }

    It 'are CSV with a header row: <Name>' -TestCases @(
        @{ Name = 'users.csv'; Columns = @('Id', 'Method', 'Uri', 'Body', 'ContentType', 'Header.X-Tenant') }
        @{ Name = 'new-users.csv'; Columns = @('Id', 'Method', 'DisplayName', 'Email', 'Department') }
    ) {
        $rows = @(Import-Csv -LiteralPath (Join-Path $Examples $Name))
        $rows.Count | Should -BeGreaterThan 0
        $rows[0].PSObject.Properties.Name | Should -Be $Columns
    }
}

Describe 'Example script <Name> run against the loopback server <Mode>' -ForEach $RunCases {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:Server = Start-TestServer
        $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "batchrequest-$([guid]::NewGuid())")).FullName
        $records = @(
            @{ id = "$Name-get"; uri = "$($Server.BaseUri)echo?id=$Name-get" }
            @{ id = "$Name-post"; method = 'POST'; uri = "$($Server.BaseUri)echo?id=$Name-post"; body = @{ sku = 'A-17' } }
        )
        $requests = New-RequestFile -Path (Join-Path $Work 'orders.json') -Records $records
        $arguments = switch ($Name) {
            'csv-to-api.ps1' {
                @{ Path = (Join-Path $Examples 'new-users.csv'); UriTemplate = "$($Server.BaseUri)echo?id={Id}"; ResultPath = (Join-Path $Work 'results.csv') }
            }
            'nightly-scheduled-task.ps1' { @{ Path = $requests; StateDir = (Join-Path $Work 'state') } }
            'rate-limited-api.ps1' { @{ Path = $requests; RequestsPerSecond = 100; LatencySec = 0.1 } }
            'retry-what-failed.ps1' { @{ Path = $requests; WorkDir = (Join-Path $Work 'rounds'); PauseSec = 0; Rounds = 1 } }
            default { throw "No loopback arguments for the example $Name; add them here." }
        }
        $argumentText = ($arguments.GetEnumerator() | ForEach-Object { "-$($_.Key) '$($_.Value -replace "'", "''")'" }) -join ' '
        $pwsh = @(Get-PwshCommand)
        $childArguments = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive')
        $childArguments += if ($Mode -eq 'with pwsh -File') {
            @('-File', $Path) + @($arguments.GetEnumerator() | ForEach-Object { "-$($_.Key)"; [string]$_.Value })
        }
        else {
            @('-Command', "Import-Module '$((Resolve-Path (Get-BuiltModulePath)).Path)'; & '$Path' $argumentText; exit `$LASTEXITCODE")
        }
        # A new process, where BatchRequest is not loaded: what #Requires -Modules refused when it is not installed.
        $script:Output = & $pwsh[0] @childArguments 2>&1 | Out-String
        $script:ExitCode = $LASTEXITCODE
        $script:Ledger = @(Get-TestServerLedger $Server)
    }

    AfterAll {
        Stop-TestServer $Server
        Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
    }

    It 'runs to exit code 0' {
        $Output | Should -Not -BeLike '*#Requires*'
        $ExitCode | Should -Be 0 -Because $Output
    }

    It 'sends its records to the server' {
        $Ledger.Count | Should -BeGreaterThan 0 -Because $Output
        if ($Name -ne 'csv-to-api.ps1') {
            @($Ledger.id | Sort-Object -Unique) | Should -Be @("$Name-get", "$Name-post")
        }
    }
}

Describe 'The manifest' {
    It 'names in its Description every format the example request files show: <Format>' -TestCases @(
        @{ Format = 'JSON' }
        @{ Format = 'NDJSON' }
        @{ Format = 'CSV' }
        @{ Format = '.http' }
    ) {
        $manifest = Import-PowerShellDataFile -LiteralPath (Join-Path $RepoRoot 'BatchRequest.psd1')
        $manifest.Description | Should -Match "(^|[\s(,])$([regex]::Escape($Format))([\s),]|$)"
    }
}

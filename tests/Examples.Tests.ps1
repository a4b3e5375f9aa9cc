# The examples folder: scripts that parse and document themselves, and request files that are what they claim to be.
# Nothing here sends a request: the scripts are parsed, never run, and the files are only imported.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $examples = Join-Path (Split-Path -Parent $PSScriptRoot) 'examples'
    $ScriptCases = @(Get-ChildItem -LiteralPath $examples -Filter '*.ps1' | ForEach-Object { @{ Name = $_.Name; Path = $_.FullName } })

    # Formats beyond a JSON array arrive with Import-RequestFile -Format; until then those files are skipped here.
    $ImportsEveryFormat = (Get-Command Import-RequestFile).Parameters.ContainsKey('Format')
    $RequestFileCases = @(
        @{ Name = 'orders.json'; Import = @{}; Count = 5; Skip = $false }
        @{ Name = 'orders-with-defaults.json'; Import = @{}; Count = 4; Skip = -not $ImportsEveryFormat }
        @{ Name = 'orders.ndjson'; Import = @{}; Count = 5; Skip = -not $ImportsEveryFormat }
        @{ Name = 'users.csv'; Import = @{}; Count = 4; Skip = -not $ImportsEveryFormat }
        @{
            Name = 'new-users.csv'; Count = 4; Skip = -not $ImportsEveryFormat
            Import = @{
                UriTemplate  = 'https://api.example.com/v1/users/{Id}'
                BodyTemplate = '{ "displayName": "{DisplayName}", "email": "{Email}", "department": "{Department}" }'
            }
        }
        @{ Name = 'api.http'; Import = @{}; Count = 4; Skip = -not $ImportsEveryFormat }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $script:Examples = Join-Path $RepoRoot 'examples'

    # The parameters docs/help documents for each cmdlet, including those still being added on other branches.
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
    It 'imports to <Count> records with ids of their own' -Skip:$Skip {
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

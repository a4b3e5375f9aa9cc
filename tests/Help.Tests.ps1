# Every exported cmdlet, and every parameter but the common ones, has help: the build makes it from docs/help.
# The cases come from Get-Command, so a cmdlet or a parameter added later without help fails here.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $common = [Management.Automation.PSCmdlet]::CommonParameters + [Management.Automation.PSCmdlet]::OptionalCommonParameters
    $commands = @(Get-Command -Module BatchRequest -CommandType Cmdlet)
    $CommandCases = @($commands | ForEach-Object { @{ Name = $_.Name } })
    $ParameterCases = @(foreach ($command in $commands) {
            foreach ($name in $command.Parameters.Keys | Where-Object { $_ -notin $common }) {
                @{ Command = $command.Name; Parameter = $name }
            }
        })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force

    function Get-ParaText($Node) {
        # Help text comes as a list of paragraphs, each with a Text property.
        (@($Node) | ForEach-Object { if ($_ -is [string]) { $_ } else { $_.Text } }) -join "`n"
    }
}

Describe 'Help for <Name>' -ForEach $CommandCases {
    BeforeAll {
        $script:Help = Get-Help -Name $Name -Full
    }

    It 'has a synopsis written for it' {
        # Without help, Get-Help makes a synopsis out of the syntax; details.description is then missing.
        (Get-ParaText $Help.details.description).Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has a description' {
        (Get-ParaText $Help.description).Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has at least three examples, each with code and remarks' {
        $examples = @($Help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 3
        foreach ($example in $examples) {
            $example.code | Should -Not -BeNullOrEmpty -Because $example.title
            (Get-ParaText $example.remarks).Trim() | Should -Not -BeNullOrEmpty -Because $example.title
        }
    }

    It 'has examples that parse as PowerShell' {
        foreach ($example in @($Help.examples.example)) {
            $errors = $null
            $null = [Management.Automation.Language.Parser]::ParseInput($example.code, [ref] $null, [ref] $errors)
            $errors | Should -BeNullOrEmpty -Because $example.title
        }
    }

    It 'names the output types the cmdlet declares' {
        $declared = @((Get-Command $Name).OutputType.Name)
        $documented = @($Help.returnValues.returnValue | ForEach-Object { $_.type.name })
        foreach ($type in $declared) { $documented | Should -Contain $type }
    }
}

Describe 'Help for the parameters' {
    It '<Command> -<Parameter> says what it does and its default' -TestCases $ParameterCases {
        $parameterHelp = Get-Help -Name $Command -Parameter $Parameter -ErrorAction SilentlyContinue
        $parameterHelp | Should -Not -BeNullOrEmpty -Because "docs/help/$Command.md needs a '### -$Parameter' section"
        (Get-ParaText $parameterHelp.description).Trim() | Should -Not -BeNullOrEmpty -Because "docs/help/$Command.md needs a '### -$Parameter' section"

        # A default written in the Markdown must be the cmdlet's own: read it from a fresh instance.
        $type = (Get-Command $Command).ImplementingType
        $instance = [Activator]::CreateInstance($type)
        try { $default = $type.GetProperty($Parameter).GetValue($instance) }
        finally { if ($instance -is [IDisposable]) { $instance.Dispose() } }
        $trivial = $null -eq $default -or $default -is [Management.Automation.SwitchParameter] -or $default -is [bool] -or
            $default -is [array] -or ($default -is [string] -and $default -eq '') -or
            ($default -is [ValueType] -and -not ($default -is [enum]) -and [double]$default -eq 0)
        if (-not $trivial) {
            # As a whole word: a documented 100 is not the default 10.
            $text = [regex]::Escape([Convert]::ToString($default, [Globalization.CultureInfo]::InvariantCulture))
            $parameterHelp.defaultValue | Should -Match "(^|[^\w.])$text([^\w.]|$)"
        }
    }
}

Describe 'about_BatchRequest' {
    BeforeAll {
        $script:About = Get-Help about_BatchRequest | Out-String
    }

    It 'is found by Get-Help' {
        $About | Should -Match 'about_BatchRequest'
    }

    It 'covers <Concept>' -TestCases @(
        @{ Concept = 'throttle vs rate'; Words = @('-ThrottleLimit', '-RequestsPerSecond') }
        @{ Concept = 'the retry policy'; Words = @('-MaximumRetryCount', 'Retry-After', '429') }
        @{ Concept = 'the statuses'; Words = @('Succeeded', 'Failed', 'OutcomeUnknown', 'Throttled', 'NotSent', 'Canceled', 'Skipped') }
        @{ Concept = 'idempotency'; Words = @('-IdempotencyKeyHeader', '-RetryNonIdempotent') }
        @{ Concept = 'journal and resume'; Words = @('-JournalPath', '-Resume', '-FailedPath') }
        @{ Concept = 'the formats'; Words = @('NDJSON', 'CSV', 'Header.<Name>', '-UriTemplate', '.http') }
        @{ Concept = 'security'; Words = @('redirect', '-SkipCertificateCheck', '-AllowedHost', '-TokenProvider') }
        @{ Concept = 'the shared quota'; Words = @('-SharedThrottle', 'lease', 'Lua', 'SharedThrottleUnavailable', 'Redis Cluster') }
    ) {
        param($Words)
        foreach ($word in $Words) { $About | Should -BeLike "*$word*" }
    }
}

Describe 'The ErrorKind tables' {
    It 'in <File> list every ErrorKind value, and nothing else' -TestCases @(
        @{ File = 'README.md' }
        @{ File = 'docs/help/about_BatchRequest.md' }
    ) {
        param($File)
        $lines = Get-Content -LiteralPath (Join-Path $PSScriptRoot ".." $File)
        $header = [array]::FindIndex([string[]]$lines, [Predicate[string]] { param($line) $line -match '^\| ErrorKind \| Meaning \|' })
        $header | Should -BeGreaterOrEqual 0 -Because "$File needs a '| ErrorKind | Meaning |' table"
        $documented = [Collections.Generic.List[string]]::new()
        for ($i = $header + 2; $i -lt $lines.Count -and $lines[$i] -match '^\| `?(\w+)`? \|'; $i++) { $documented.Add($Matches[1]) }
        @($documented | Sort-Object) | Should -Be ([enum]::GetNames([BatchRequest.Model.Results.ErrorKind]) | Sort-Object)
    }
}

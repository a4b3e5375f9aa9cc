# Tab completion, through TabExpansion2 as the console and editors call it.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    # Every parameter whose values are a fixed list (a ValidateSet or an enum) completes to that list, with no
    # completer of its own; parameters added later are covered as they come.
    $ValueListCases = @(foreach ($command in Get-Command -Module BatchRequest -CommandType Cmdlet) {
            foreach ($parameter in $command.Parameters.Values) {
                $set = $parameter.Attributes | Where-Object { $_ -is [Management.Automation.ValidateSetAttribute] } | Select-Object -First 1
                $values = if ($set) { @($set.ValidValues) } elseif ($parameter.ParameterType.IsEnum) { [Enum]::GetNames($parameter.ParameterType) }
                if ($values -and $parameter.Name -notin [Management.Automation.PSCmdlet]::CommonParameters) {
                    @{ Command = $command.Name; Parameter = $parameter.Name; Values = $values }
                }
            }
        })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force

    function Get-Completion([string] $Line) {
        @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText)
    }
}

Describe 'Tab completion' {
    It 'offers the HTTP versions for Invoke-BatchRequest -HttpVersion' {
        Get-Completion 'Invoke-BatchRequest -HttpVersion ' | Should -Be @('1.0', '1.1', '2.0', '3.0')
    }

    It 'offers only the HTTP versions that start with what was typed' {
        Get-Completion 'Invoke-BatchRequest -HttpVersion 2' | Should -Be @('2.0')
        Get-Completion 'Invoke-BatchRequest -HttpVersion 1.' | Should -Be @('1.0', '1.1')
    }

    It 'offers the schemes for Invoke-BatchRequest -Authentication' {
        Get-Completion 'Invoke-BatchRequest -Authentication ' | Sort-Object | Should -Be @('Basic', 'Bearer', 'None', 'OAuth')
    }

    It 'offers only the schemes that start with what was typed' {
        Get-Completion 'Invoke-BatchRequest -Authentication b' | Sort-Object | Should -Be @('Basic', 'Bearer')
    }

    It 'offers every part once the number of parts is typed for Import-RequestFile -Partition' {
        Get-Completion 'Import-RequestFile x.json -Partition /4' | Should -Be @('1/4', '2/4', '3/4', '4/4')
        Get-Completion 'Import-RequestFile x.json -Partition 3/8' | Should -Be @('3/8')
    }

    It 'offers the first part of the usual splits before the number of parts is typed' {
        Get-Completion 'Import-RequestFile x.json -Partition ' | Should -Be @('1/2', '1/4', '1/8', '1/16')
        Get-Completion 'Import-RequestFile x.json -Partition 1/' | Should -Be @('1/2', '1/4', '1/8', '1/16')
    }

    It 'offers the HTTP methods for New-BatchRequest -Method, and those that start with what was typed' {
        Get-Completion 'New-BatchRequest https://h/ -Method ' | Should -Be @('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS')
        Get-Completion 'New-BatchRequest https://h/ -Method p' | Should -Be @('POST', 'PUT', 'PATCH')
    }

    It 'completes parameter names' {
        Get-Completion 'Invoke-BatchRequest -Throttle' | Should -Be @('-ThrottleLimit')
        Get-Completion 'Import-RequestFile -Lit' | Should -Be @('-LiteralPath')
    }

    It 'offers every value of <Command> -<Parameter>' -TestCases $ValueListCases {
        Get-Completion "$Command -$Parameter " | Sort-Object | Should -Be @($Values | Sort-Object)
    }
}

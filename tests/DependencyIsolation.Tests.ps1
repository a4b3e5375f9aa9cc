# The module must load beside another module that brought another Polly.Core. A loaded assembly cannot be
# unloaded, so every scenario runs in its own child pwsh and reports what it saw as JSON.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Server = Start-TestServer
    $script:ModulePath = Get-BuiltModulePath

    # Restored by tests/TestTools.proj: an older Polly.Core, and a framework assembly to plant as a decoy.
    $packages = ((& (Get-DotnetPath) nuget locals global-packages --list) -replace '^global-packages:\s*', '').Trim()
    $script:OtherPolly = Join-Path $packages 'polly.core/8.4.2/lib/net8.0/Polly.Core.dll'
    $script:DecoyChannels = Join-Path $packages 'system.threading.channels/8.0.0/lib/net8.0/System.Threading.Channels.dll'
    $script:OurPollyVersion = (Get-Item -LiteralPath (Join-Path (Split-Path $ModulePath) 'bin/dependencies/Polly.Core.dll')).
        VersionInfo.ProductVersion -replace '\+.*$'

    $records = foreach ($i in 1..3) { @{ id = "iso$i"; uri = "$($Server.BaseUri)delay/1?id=iso$i" } }
    $script:RequestFile = New-RequestFile -Path (Join-Path $TestDrive 'requests.json') -Records $records

    # Runs the steps in order, then prints one JSON line: each batch's statuses and the assemblies of interest.
    $script:SessionScript = Join-Path $TestDrive 'session.ps1'
    Set-Content -LiteralPath $SessionScript -Encoding utf8NoBOM -Value {
        param([string] $ModulePath, [string] $RequestFile, [string] $OtherPolly, [string] $Steps, [string] $Quota)
        $ErrorActionPreference = 'Stop'
        $batches = @()
        foreach ($step in $Steps -split ',') {
            switch ($step) {
                'LoadOtherPolly' { Add-Type -LiteralPath $OtherPolly }
                'Import' { Import-Module $ModulePath }
                'Remove' { Remove-Module BatchRequest }
                'Batch' { $batches += , @(Import-RequestFile -LiteralPath $RequestFile | Invoke-BatchRequest | ForEach-Object { "$($_.Status)" }) }
                'Report' { Import-RequestFile -LiteralPath $RequestFile | Invoke-BatchRequest | Export-BatchReport -LiteralPath "$RequestFile.html" }
                'Shared' { $batches += , @(Import-RequestFile -LiteralPath $RequestFile | Invoke-BatchRequest -SharedThrottle $Quota | ForEach-Object { "$($_.Status)" }) }
                default { throw "Unknown step '$step'." }
            }
        }
        $assemblies = foreach ($assembly in [AppDomain]::CurrentDomain.GetAssemblies()) {
            $context = [Runtime.Loader.AssemblyLoadContext]::GetLoadContext($assembly)
            $name = $assembly.GetName().Name
            if ($context -ne [Runtime.Loader.AssemblyLoadContext]::Default -or $name -like 'Polly*' -or
                $name -like 'BatchRequest*' -or $name -eq 'System.Threading.Channels' -or $name -eq 'OxyPlot' -or $name -eq 'System.IO.Pipelines') {
                $informational = $assembly.GetCustomAttributes([Reflection.AssemblyInformationalVersionAttribute], $false)
                [pscustomobject]@{
                    Name     = $name
                    Version  = if ($informational) { $informational[0].InformationalVersion -replace '\+.*$' } else { "$($assembly.GetName().Version)" }
                    Context  = $context.Name
                    Location = $assembly.Location
                }
            }
        }
        [pscustomobject]@{
            Batches          = $batches
            Assemblies       = @($assemblies)
            Contexts         = @([Runtime.Loader.AssemblyLoadContext]::All | ForEach-Object Name)
            RuntimeDirectory = [IO.Path]::GetDirectoryName([object].Assembly.Location)
        } | ConvertTo-Json -Depth 4 -Compress
    }.ToString()

    function Invoke-Session {
        param(
            [Parameter(Mandatory)] [string[]] $Steps,
            [string] $Module = $ModulePath,
            [string] $Quota = 'none'
        )
        $pwsh = @(Get-PwshCommand)
        $output = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -File $SessionScript `
            -ModulePath $Module -RequestFile $RequestFile -OtherPolly $OtherPolly -Steps ($Steps -join ',') -Quota $Quota 2>&1
        if ($LASTEXITCODE -ne 0) { throw "The child pwsh failed ($LASTEXITCODE): $($output -join [Environment]::NewLine)" }
        @($output)[-1] | ConvertFrom-Json
    }
}

AfterAll {
    Stop-TestServer $Server
}

Describe 'Dependency isolation' {
    It 'ships a Polly.Core other than the one the tests load beside it' {
        $OurPollyVersion | Should -Not -BeNullOrEmpty
        $OurPollyVersion | Should -Not -Be '8.4.2'
        Test-Path -LiteralPath $OtherPolly | Should -BeTrue
    }

    It 'runs a batch on its own Polly.Core when another version was loaded first' {
        $session = Invoke-Session -Steps LoadOtherPolly, Import, Batch

        $session.Batches[0] | Should -Be @('Succeeded', 'Succeeded', 'Succeeded')
        $polly = @($session.Assemblies | Where-Object Name -EQ 'Polly.Core')
        $polly.Count | Should -Be 2
        ($polly | Where-Object Context -EQ 'Default').Version | Should -Be '8.4.2'
        ($polly | Where-Object Context -EQ 'BatchRequest').Version | Should -Be $OurPollyVersion
        ($session.Assemblies | Where-Object Name -EQ 'BatchRequest.Engine').Context | Should -Be 'BatchRequest'
        ($session.Assemblies | Where-Object Name -EQ 'BatchRequest').Context | Should -Be 'Default'
    }

    It 'lets another Polly.Core load after it, and survives Remove-Module and a second import' {
        $session = Invoke-Session -Steps Import, Batch, LoadOtherPolly, Batch, Remove, Import, Batch

        $session.Batches.Count | Should -Be 3
        foreach ($batch in $session.Batches) { $batch | Should -Be @('Succeeded', 'Succeeded', 'Succeeded') }
        $polly = @($session.Assemblies | Where-Object Name -EQ 'Polly.Core')
        @($polly.Version | Sort-Object) | Should -Be @(@('8.4.2', $OurPollyVersion) | Sort-Object)
        # The second import reuses the engine already loaded; nothing is loaded twice.
        @($session.Assemblies | Where-Object Name -EQ 'BatchRequest.Engine').Count | Should -Be 1
        @($session.Contexts | Where-Object { $_ -eq 'BatchRequest' }).Count | Should -Be 1
    }

    It 'loads the report''s plotting library into its own context, beside the engine' {
        $session = Invoke-Session -Steps Import, Report

        $oxyPlot = @($session.Assemblies | Where-Object Name -EQ 'OxyPlot')
        $oxyPlot.Count | Should -Be 1
        $oxyPlot[0].Context | Should -Be 'BatchRequest'
        Split-Path $oxyPlot[0].Location | Should -Be (Join-Path (Split-Path $ModulePath) 'bin/dependencies')
    }

    It 'loads the shared quota''s Redis client into the module''s context, and the runtime''s pipelines from the runtime' {
        $redis = Start-TestRedis
        try {
            $session = Invoke-Session -Steps Import, Shared -Quota "$($redis.Address)/isolation"
        }
        finally {
            Stop-TestRedis $redis
        }

        $session.Batches[0] | Should -Be @('Succeeded', 'Succeeded', 'Succeeded')
        foreach ($name in 'StackExchange.Redis', 'Pipelines.Sockets.Unofficial') {
            $loaded = @($session.Assemblies | Where-Object Name -EQ $name)
            $loaded.Count | Should -Be 1 -Because "$name loads once"
            $loaded[0].Context | Should -Be 'BatchRequest'
            Split-Path $loaded[0].Location | Should -Be (Join-Path (Split-Path $ModulePath) 'bin/dependencies')
        }
        $pipelines = @($session.Assemblies | Where-Object Name -EQ 'System.IO.Pipelines')
        $pipelines.Count | Should -Be 1
        Split-Path $pipelines[0].Location | Should -Be $session.RuntimeDirectory
    }

    It 'takes the runtime''s own assemblies from the runtime even when a copy lies in bin/dependencies' {
        $copy = Join-Path $TestDrive 'decoy/BatchRequest'
        Copy-Item -LiteralPath (Split-Path $ModulePath) -Destination $copy -Recurse
        Copy-Item -LiteralPath $DecoyChannels -Destination (Join-Path $copy 'bin/dependencies')

        $session = Invoke-Session -Steps Import, Batch -Module (Join-Path $copy 'BatchRequest.psd1')

        $session.Batches[0] | Should -Be @('Succeeded', 'Succeeded', 'Succeeded')
        $channels = @($session.Assemblies | Where-Object Name -EQ 'System.Threading.Channels')
        $channels.Count | Should -Be 1
        $channels[0].Context | Should -Be 'Default'
        Split-Path $channels[0].Location | Should -Be $session.RuntimeDirectory
        @($session.Assemblies | Where-Object Context -EQ 'BatchRequest').Name | Sort-Object |
            Should -Be @('BatchRequest.Engine', 'Polly.Core')
    }
}

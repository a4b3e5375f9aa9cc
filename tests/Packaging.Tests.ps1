# The .nupkg from `build.ps1 package` must go through PSResourceGet like any module from a repository: published to
# a folder repository, installed into a module folder, imported by name, and working.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Package = $env:BATCHREQUEST_PACKAGE
    if (-not $Package) {
        $script:Package = Get-ChildItem -Path (Join-Path $RepoRoot 'out/BatchRequest.*.nupkg') |
            Select-Object -First 1 -ExpandProperty FullName
    }
    if (-not $Package -or -not (Test-Path -LiteralPath $Package)) { throw "No package found; run 'build.ps1 package' first." }
    $script:ShippedManifest = Join-Path $RepoRoot 'BatchRequest.psd1'
    $manifest = Import-PowerShellDataFile -LiteralPath $ShippedManifest
    $script:ModuleVersion = $manifest.ModuleVersion
    $script:Cmdlets = @($manifest.CmdletsToExport | Sort-Object)
}

Describe 'The package' {
    BeforeAll {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $archive = [IO.Compression.ZipFile]::OpenRead($Package)
        try {
            # What NuGet adds around the content: the nuspec and the OPC parts.
            $script:Entries = @($archive.Entries.FullName | Where-Object {
                    $_ -notmatch '^(_rels/|package/|\[Content_Types\]\.xml$|[^/]+\.nuspec$)' } | Sort-Object)
            $reader = [IO.StreamReader]::new($archive.GetEntry('BatchRequest.psd1').Open())
            try { $script:PackedManifest = $reader.ReadToEnd() } finally { $reader.Dispose() }
        }
        finally {
            $archive.Dispose()
        }
    }

    It 'is named after the manifest''s version' {
        Split-Path -Leaf $Package | Should -Be "BatchRequest.$ModuleVersion.nupkg"
    }

    It 'holds exactly the assembled module' {
        $assembled = Split-Path (Get-BuiltModulePath)
        $expected = Get-ChildItem -LiteralPath $assembled -Recurse -File |
            ForEach-Object { [IO.Path]::GetRelativePath($assembled, $_.FullName) -replace '\\', '/' } | Sort-Object
        $Entries | Should -Be $expected
    }

    It 'keeps the cmdlets and the model in bin/ and the engine with its libraries, but no runtime assembly, in bin/dependencies/' {
        $Entries | Should -Contain 'bin/BatchRequest.dll'
        $Entries | Should -Contain 'bin/BatchRequest.Model.dll'
        $Entries | Should -Contain 'bin/dependencies/BatchRequest.Engine.dll'
        $Entries | Should -Contain 'bin/dependencies/Polly.Core.dll'
        $Entries | Should -Contain 'bin/dependencies/StackExchange.Redis.dll'
        $Entries | Should -Contain 'bin/dependencies/Pipelines.Sockets.Unofficial.dll'
        $Entries | Where-Object { $_ -like 'bin/*.dll' -and $_ -notin 'bin/BatchRequest.dll', 'bin/BatchRequest.Model.dll' -and $_ -notlike 'bin/dependencies/*' } |
            Should -BeNullOrEmpty
        # Libraries the runtime lacks (Polly.Core, CsvHelper) travel with the module; the runtime's own never do.
        $runtime = Split-Path ([object].Assembly.Location)
        $Entries | Where-Object { Test-Path -LiteralPath (Join-Path $runtime (Split-Path -Leaf $_)) } | Should -BeNullOrEmpty
    }

    It 'ships the repository''s manifest unchanged' {
        $PackedManifest | Should -BeExactly (Get-Content -LiteralPath $ShippedManifest -Raw)
    }
}

Describe 'Installing from a local folder repository' {
    BeforeAll {
        $script:Feed = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'feed')).FullName
        $script:Modules = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'modules')).FullName
        # A name of its own, removed in AfterAll, so the user's repositories are left as they were.
        $script:RepositoryName = "BatchRequestTest-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        Register-PSResourceRepository -Name $RepositoryName -Uri $Feed -Trusted
        $script:Server = Start-TestServer

        Publish-PSResource -NupkgPath $Package -Repository $RepositoryName
        Save-PSResource -Name BatchRequest -Repository $RepositoryName -Path $Modules -TrustRepository -IncludeXml
    }

    AfterAll {
        Unregister-PSResourceRepository -Name $RepositoryName
        Stop-TestServer $Server
    }

    It 'is found in the repository under the manifest''s version' {
        $found = Find-PSResource -Name BatchRequest -Repository $RepositoryName
        $found.Version | Should -Be $ModuleVersion
        $found.Type | Should -Be 'Module'
    }

    It 'is installed in the module folder as BatchRequest, then its version' {
        $installed = Get-InstalledPSResource -Name BatchRequest -Path $Modules
        $installed.Version | Should -Be $ModuleVersion
        Test-Path -LiteralPath (Join-Path $Modules "BatchRequest/$ModuleVersion/BatchRequest.psd1") | Should -BeTrue
    }

    It 'imports by name in a fresh session whose module path holds only it, and runs a batch' {
        $records = foreach ($i in 1..3) { @{ id = "pkg$i"; uri = "$($Server.BaseUri)delay/1?id=pkg$i" } }
        $requests = New-RequestFile -Path (Join-Path $TestDrive 'requests.json') -Records $records
        $session = Join-Path $TestDrive 'session.ps1'
        Set-Content -LiteralPath $session -Encoding utf8NoBOM -Value {
            param([string] $Modules, [string] $RequestFile)
            $ErrorActionPreference = 'Stop'
            # pwsh adds the user's and the shared module folders at start; keep only ours and the built-in ones.
            $env:PSModulePath = @($Modules, (Join-Path $PSHOME 'Modules')) -join [IO.Path]::PathSeparator
            Import-Module BatchRequest
            $module = Get-Module BatchRequest
            [pscustomobject]@{
                ModuleBase = $module.ModuleBase
                Version    = "$($module.Version)"
                Commands   = @($module.ExportedCommands.Keys | Sort-Object)
                Statuses   = @(Import-RequestFile -LiteralPath $RequestFile | Invoke-BatchRequest | ForEach-Object { "$($_.Status)" })
            } | ConvertTo-Json -Compress
        }.ToString()

        $pwsh = @(Get-PwshCommand)
        $output = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -File $session `
            -Modules $Modules -RequestFile $requests 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($output -join [Environment]::NewLine)
        $result = @($output)[-1] | ConvertFrom-Json

        $result.ModuleBase | Should -Be (Join-Path $Modules "BatchRequest/$ModuleVersion")
        $result.Version | Should -Be $ModuleVersion
        $result.Commands | Should -Be $Cmdlets
        $result.Statuses | Should -Be @('Succeeded', 'Succeeded', 'Succeeded')
    }
}

<#
.SYNOPSIS
    Builds, tests, demonstrates and benchmarks the BatchRequest module.
.DESCRIPTION
    build (default)  compiles the solution and assembles out/BatchRequest, the folder Import-Module takes.
    test             build and package, then xunit, then Pester in a child pwsh against out/BatchRequest
                     and the package;
                     the last line is "N passed, N failed" and the exit code is non-zero on any failure.
    demo             build, start the sample API on loopback, send 1,000 records at -ThrottleLimit 40 with a journal,
                     and write the report of that run (out/demo-report.html), printing its path.
    bench            build, then run bench/Invoke-Benchmark.ps1 beside its peers and write bench/RESULTS.md
                     (by hand, on a quiet machine; never part of test).
    package          build, then pack out/BatchRequest into out/BatchRequest.<version>.nupkg with
                     Compress-PSResource, ready for Publish-PSResource -NupkgPath or a folder repository.
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'test', 'demo', 'package', 'bench')]
    [string] $Task = 'build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
. (Join-Path $PSScriptRoot 'tests/common.ps1')

$OutDir = Join-Path $PSScriptRoot 'out'
$ModuleDir = Join-Path $OutDir 'BatchRequest'
$ServerDir = Join-Path $OutDir 'testserver'
$ResultsDir = Join-Path $OutDir 'test-results'

function Invoke-Dotnet {
    & (Get-DotnetPath) @args
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($args[0]) failed with exit code $LASTEXITCODE." }
}

function Invoke-Build {
    Write-Host "Building ($Configuration)..."
    Invoke-Dotnet build (Join-Path $PSScriptRoot 'BatchRequestModule.sln') -c $Configuration --nologo -v quiet '-clp:ErrorsOnly'

    # One folder that Import-Module takes by path: the manifest, the non-compiled files, the binaries.
    Remove-Item -LiteralPath $ModuleDir, $ServerDir -Recurse -Force -ErrorAction Ignore
    $bin = New-Item -ItemType Directory -Path (Join-Path $ModuleDir 'bin') -Force
    Copy-Item -LiteralPath (Join-Path $PSScriptRoot 'BatchRequest.psd1') -Destination $ModuleDir
    Copy-Item -Path (Join-Path $PSScriptRoot 'module/*') -Destination $ModuleDir -Recurse

    # The cmdlets and the types scripts name go to bin/; the engine and its libraries to bin/dependencies/, which
    # PowerShell does not probe, so they load into the module's own load context (src/BatchRequest.Module/Loading)
    # beside other versions of the same libraries.
    $dependencies = New-Item -ItemType Directory -Path (Join-Path $bin 'dependencies') -Force
    $moduleBuild = Join-Path $PSScriptRoot "src/BatchRequest.Module/bin/$Configuration/net8.0"
    $shared = 'BatchRequest.dll', 'BatchRequest.Model.dll'
    Copy-Item -Path (Join-Path $moduleBuild '*.dll') -Include $shared -Destination $bin
    # A library the runtime ships (System.IO.Pipelines) is left out: the load context hands those to the runtime.
    $runtime = Split-Path ([object].Assembly.Location)
    Get-ChildItem -Path (Join-Path $moduleBuild '*.dll') -Exclude $shared |
        Where-Object { -not (Test-Path -LiteralPath (Join-Path $runtime $_.Name)) } |
        Copy-Item -Destination $dependencies
    Invoke-ReadyToRun -Assemblies (Get-ChildItem -LiteralPath $bin, $dependencies -Filter *.dll)
    Copy-Item -Path (Join-Path $PSScriptRoot "tests/BatchRequest.TestServer/bin/$Configuration/net10.0") -Destination $ServerDir -Recurse
    & (Join-Path $PSScriptRoot 'tools/Build-ModuleHelp.ps1') -ModuleDir $ModuleDir   # en-US/ help from docs/help
    Write-Host "Module assembled in $ModuleDir"
}

function Get-NuGetPackagesPath {
    ((& (Get-DotnetPath) nuget locals global-packages --list) -replace '^global-packages:\s*', '').Trim()
}

function Invoke-ReadyToRun {
    <#
    Compiles the module's assemblies ReadyToRun in place, so that a fresh process (a scheduled task) runs them
    without compiling them first. They still target .NET 8 and hold their IL: the precompiled code is for the
    runtime this build runs on (.NET 10, PowerShell 7.6), and any other runtime ignores it and compiles the IL.
    #>
    param([Parameter(Mandatory)] [IO.FileInfo[]] $Assemblies)
    $platform = [System.Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier
    Invoke-Dotnet restore (Join-Path $PSScriptRoot 'tools/ReadyToRun.proj') "-p:ReadyToRunPlatform=$platform" --nologo -v quiet
    $packages = Get-NuGetPackagesPath
    # The version tools/ReadyToRun.proj pins: the packages folder may hold others, whose images this runtime ignores.
    $project = Join-Path $PSScriptRoot 'tools/ReadyToRun.proj'
    $version = (Select-Xml -LiteralPath $project -XPath '//PackageDownload').Node.Version.Trim('[', ']')
    $crossgen = Get-Item -LiteralPath (Join-Path $packages "microsoft.netcore.app.crossgen2.$platform/$version/tools/crossgen2")
    $os, $architecture = $platform -split '-', 2
    $references = @(
        Join-Path (Split-Path ([object].Assembly.Location)) '*.dll'           # the runtime's own libraries
        Join-Path (Split-Path ([psobject].Assembly.Location)) '*.dll'         # PowerShell's, for the cmdlets
        $Assemblies | ForEach-Object FullName
    ) | ForEach-Object { '-r', $_ }
    foreach ($assembly in $Assemblies) {
        $compiled = "$($assembly.FullName).r2r"
        & $crossgen.FullName $assembly.FullName -o $compiled --targetos $os --targetarch $architecture -O @references | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "ReadyToRun compilation of $($assembly.Name) failed with exit code $LASTEXITCODE." }
        Move-Item -LiteralPath $compiled -Destination $assembly.FullName -Force
    }
}

function New-ModulePackage {
    # The package is made by the tool that will install it: PSResourceGet writes the nuspec from the manifest.
    # Compress-PSResource arrived in PSResourceGet 1.1.0, which ships with PowerShell 7.5 and later.
    Import-Module Microsoft.PowerShell.PSResourceGet -MinimumVersion 1.1.0
    $manifestVersion = (Import-PowerShellDataFile -LiteralPath (Join-Path $ModuleDir 'BatchRequest.psd1')).ModuleVersion
    $assemblyVersion = (Select-Xml -LiteralPath (Join-Path $PSScriptRoot 'Directory.Build.props') -XPath '/Project/PropertyGroup/Version').Node.InnerText
    if ($manifestVersion -ne $assemblyVersion) {
        throw "BatchRequest.psd1 says ModuleVersion $manifestVersion but Directory.Build.props says Version $assemblyVersion."
    }

    Remove-Item -Path (Join-Path $OutDir 'BatchRequest.*.nupkg') -ErrorAction Ignore
    $package = Compress-PSResource -Path $ModuleDir -DestinationPath $OutDir -PassThru
    Write-Host "Package written to $($package.FullName)"
    $package.FullName
}

function Invoke-Package {
    Invoke-Build
    $null = New-ModulePackage
}

function Invoke-UnitTests {
    $project = Join-Path $PSScriptRoot 'tests/units/BatchRequest.Tests/BatchRequest.Tests.csproj'
    & (Get-DotnetPath) test $project -c $Configuration --no-build --nologo `
        --logger 'trx;LogFileName=xunit.trx' --logger 'console;verbosity=minimal' --results-directory $ResultsDir | Out-Host
    $trx = Join-Path $ResultsDir 'xunit.trx'
    if (-not (Test-Path -LiteralPath $trx)) { return @{ Passed = 0; Failed = 1 } }
    $counters = ([xml](Get-Content -LiteralPath $trx -Raw)).TestRun.ResultSummary.Counters
    @{ Passed = [int]$counters.passed; Failed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout }
}

function Invoke-PesterTests {
    param([Parameter(Mandatory)] [string] $Package)
    Invoke-Dotnet restore (Join-Path $PSScriptRoot 'tests/TestTools.proj') --nologo -v quiet
    $packages = Get-NuGetPackagesPath
    $pester = Join-Path $packages 'pester/5.7.1/tools/Pester.psd1'
    $summary = Join-Path $ResultsDir 'pester-summary.json'
    Remove-Item -LiteralPath $summary -ErrorAction Ignore

    # A loaded binary module cannot be unloaded, so Pester runs in a fresh pwsh against the built output.
    $pwsh = @(Get-PwshCommand)
    $runner = Join-Path $PSScriptRoot 'tests/Invoke-PesterRun.ps1'
    $env:BATCHREQUEST_MODULE = Join-Path $ModuleDir 'BatchRequest.psd1'
    $env:BATCHREQUEST_TEST_SERVER = Join-Path $ServerDir 'BatchRequest.TestServer.dll'
    $env:BATCHREQUEST_PACKAGE = $Package
    & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -File $runner -PesterPath $pester -SummaryPath $summary | Out-Host
    if (-not (Test-Path -LiteralPath $summary)) { return @{ Passed = 0; Failed = 1 } }
    $counts = Get-Content -LiteralPath $summary -Raw | ConvertFrom-Json
    @{ Passed = [int]$counts.Passed; Failed = [int]$counts.Failed }
}

function Invoke-Test {
    Invoke-Build
    $package = New-ModulePackage
    New-Item -ItemType Directory -Path $ResultsDir -Force | Out-Null
    Remove-Item -Path (Join-Path $ResultsDir '*') -Recurse -Force -ErrorAction Ignore
    $unit = Invoke-UnitTests
    $behaviour = Invoke-PesterTests -Package $package
    $passed = $unit.Passed + $behaviour.Passed
    $failed = $unit.Failed + $behaviour.Failed
    Write-Host "xunit: $($unit.Passed) passed, $($unit.Failed) failed; Pester: $($behaviour.Passed) passed, $($behaviour.Failed) failed"
    Write-Host "$passed passed, $failed failed"
    if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    Import-Module (Join-Path $ModuleDir 'BatchRequest.psd1')
    $server = Start-TestServer
    try {
        $count = 1000; $latencyMs = 50; $throttle = 40
        $file = Join-Path $OutDir 'demo-requests.json'
        $records = foreach ($i in 1..$count) { @{ id = "order-$i"; uri = "$($server.BaseUri)delay/$($latencyMs)?id=order-$i" } }
        $null = New-RequestFile -Path $file -Records $records

        # Warm up (the first requests of a process pay for compiling its code paths), then measure the real batch.
        $null = Import-RequestFile $file | Select-Object -First (2 * $throttle) | Invoke-BatchRequest -ThrottleLimit $throttle -ProgressAction SilentlyContinue
        Reset-TestServer $server

        Write-Host "Sending $count records to an API that answers after $latencyMs ms, at -ThrottleLimit $throttle..."
        $journal = Join-Path $OutDir 'demo-journal.ndjson'
        Remove-Item -LiteralPath $journal -ErrorAction Ignore
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $results = Import-RequestFile $file | Invoke-BatchRequest -ThrottleLimit $throttle -JournalPath $journal
        $clock.Stop()
        $report = Export-BatchReport -JournalPath $journal -LiteralPath (Join-Path $OutDir 'demo-report.html') -PassThru

        $stats = Get-TestServerStats $server
        $elapsed = $clock.Elapsed.TotalSeconds
        $bound = $count * $latencyMs / 1000 / $throttle
        [pscustomobject]@{
            Records             = $results.Count
            Succeeded           = @($results | Where-Object Status -EQ 'Succeeded').Count
            ElapsedSeconds      = [math]::Round($elapsed, 2)
            RequestsPerSecond   = [math]::Round($count / $elapsed)
            ServerMaxInFlight   = $stats.maxInFlight
            ServerConnections   = $stats.connections
            LowerBoundSeconds   = $bound
            RatioToBound        = [math]::Round($elapsed / $bound, 2)
            SerialSeconds       = $count * $latencyMs / 1000
        } | Format-List | Out-Host
        Write-Host "Report of this run: $($report.FullName)"
    }
    finally {
        Stop-TestServer $server
    }
}

function Invoke-Bench {
    # The benchmark of issue #3 with its defaults; it installs missing peers and writes bench/RESULTS.md.
    # For other counts or a smoke run, call bench/Invoke-Benchmark.ps1 directly (-Quick, -Runs, -Scenario, ...).
    Invoke-Build
    & (Join-Path $PSScriptRoot 'bench/Invoke-Benchmark.ps1')
}

switch ($Task) {
    'build' { Invoke-Build }
    'test' { Invoke-Test }
    'demo' { Invoke-Demo }
    'package' { Invoke-Package }
    'bench' { Invoke-Bench }
}

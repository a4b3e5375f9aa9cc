<#
.SYNOPSIS
    Part of bench/Invoke-Benchmark.ps1, dot-sourced by it: -AdaptiveThrottle beside the fixed throttle in
    scenario A, scenario D (overload) and scenario S (cold start). Defines functions only; they read the
    benchmark's parameters and helpers ($Runs, $WorkDir, Invoke-BatchRequestProcess, Get-Median, ...).
#>

#region Helpers

function Format-Range {
    <# "n" when every run gave the same number, "lowest–highest" when they differ; "–" when none. #>
    param([object[]] $Values)
    $sorted = @($Values | Where-Object { $null -ne $_ } | Sort-Object)
    if ($sorted.Count -eq 0) { return '–' }
    if ($sorted[0] -eq $sorted[-1]) { return "$($sorted[0])" }
    "$($sorted[0])–$($sorted[-1])"
}

function Format-Percent {
    param($Value)
    if ($null -eq $Value) { return '–' }
    (100 * [double]$Value).ToString('0.0', $Invariant) + ' %'
}

function Get-RunRatios {
    <# Per run, the property of tool $Over divided by that of tool $Under in the same run; the median of those. #>
    param([object[]] $Results, [string] $Over, [string] $Under, [string] $Property)
    $ratios = foreach ($run in 1..$Runs) {
        $numerator = $Results | Where-Object { $_.Run -eq $run -and $_.Tool -eq $Over -and -not $_.Problem }
        $denominator = $Results | Where-Object { $_.Run -eq $run -and $_.Tool -eq $Under -and -not $_.Problem }
        if ($numerator -and $denominator -and $numerator.$Property -and $denominator.$Property) {
            $numerator.$Property / $denominator.$Property
        }
    }
    Get-Median @($ratios)
}

#endregion

#region A: -AdaptiveThrottle on a healthy server

function Format-PeerRatioTable {
    <# Scenario A's table of BatchRequest ÷ peer, with two more columns for -AdaptiveThrottle when it ran. #>
    param([object[]] $Results, [string[]] $Peers)
    $adaptiveRatios = @(Get-PeerRatios -Results $Results -Peers $Peers -Variant 'BatchRequest -AdaptiveThrottle' |
            Where-Object { $null -ne $_.Warm -or $null -ne $_.Process })
    if ($adaptiveRatios) {
        '| Peer | warm session ÷ peer''s batch | own process ÷ peer''s whole process | -AdaptiveThrottle: warm session ÷ peer''s batch | -AdaptiveThrottle: own process ÷ peer''s whole process |'
        '|---|---:|---:|---:|---:|'
    }
    else {
        '| Peer | warm session ÷ peer''s batch | own process ÷ peer''s whole process |'
        '|---|---:|---:|'
    }
    foreach ($ratio in Get-PeerRatios -Results $Results -Peers $Peers) {
        $line = "| $($ratio.Peer) | $(Format-Number $ratio.Warm) | $(Format-Number $ratio.Process) |"
        $adaptive = $adaptiveRatios | Where-Object Peer -EQ $ratio.Peer
        if ($adaptiveRatios) { $line += " $(Format-Number $adaptive.Warm) | $(Format-Number $adaptive.Process) |" }
        $line
    }
}

function Format-AdaptiveComparison {
    <#
        Scenario A's adaptive rows against the fixed ones (median of the per-run ratios of the batch times), and the
        adaptive warm session against the bound; nothing when -AdaptiveThrottle did not run.
    #>
    param([object[]] $Results, [object[]] $Summaries, [double] $Bound)
    $pairs = @(
        @{ Name = 'warm session'; Adaptive = 'BatchRequest -AdaptiveThrottle (warm session)'; Fixed = 'BatchRequest (warm session)' }
        @{ Name = 'own process'; Adaptive = 'BatchRequest -AdaptiveThrottle (own process)'; Fixed = 'BatchRequest (own process)' }
    )
    $present = @($pairs | Where-Object { $pair = $_; @($Results | Where-Object Tool -EQ $pair.Adaptive).Count })
    if (-not $present) { return }
    "``-AdaptiveThrottle`` (ceiling T = $ThrottleLimit, starting at 8) ÷ fixed ``-ThrottleLimit $ThrottleLimit``, time of the same run (median of the per-run ratios):"
    ''
    '| BatchRequest | batch ÷ batch | whole process ÷ whole process |'
    '|---|---:|---:|'
    foreach ($pair in $present) {
        $batch = Get-RunRatios -Results $Results -Over $pair.Adaptive -Under $pair.Fixed -Property InProcessSeconds
        $process = Get-RunRatios -Results $Results -Over $pair.Adaptive -Under $pair.Fixed -Property ProcessSeconds
        "| $($pair.Name) | $(Format-Number $batch '0.000') | $(Format-Number $process '0.000') |"
    }
    ''
    foreach ($pair in $present) {
        $batch = Get-RunRatios -Results $Results -Over $pair.Adaptive -Under $pair.Fixed -Property InProcessSeconds
        if ($null -eq $batch) { continue }
        Format-Check ($batch -le 1.05) "Target: healthy A with -AdaptiveThrottle within 1.05× of the fixed throttle ($($pair.Name), batch time, median of the per-run ratios): $(Format-Number $batch '0.000')×"
    }
    $warm = $Summaries | Where-Object Tool -EQ 'BatchRequest -AdaptiveThrottle (warm session)'
    if ($warm -and $null -ne $warm.InProcess) {
        Format-Check ($warm.InProcess / $Bound -le 1.05) "Target: BatchRequest -AdaptiveThrottle (warm session) at most 1.05× the bound: $(Format-Number ($warm.InProcess / $Bound) '0.000')×"
    }
    ''
}

#endregion

#region D: overload

function Invoke-ScenarioD {
    <# The README pipeline, each row in a pwsh of its own, against a server that serves $OverloadCap at once. #>
    param($Server)
    $bound = $OverloadCount * $OverloadMs / 1000 / $OverloadCap
    Write-Host "D: $OverloadCount records against /capped/$OverloadCap/$OverloadMs (overload); bound N*L/cap $(Format-Number $bound) s"
    $records = for ($i = 1; $i -le $OverloadCount; $i++) {
        @{ id = "d-$i"; uri = "$($Server.BaseUri)capped/$OverloadCap/$($OverloadMs)?id=d-$i" }
    }
    $requestFile = New-RequestFile -Path (Join-Path $WorkDir 'scenario-d.json') -Records $records
    $csv = Join-Path $WorkDir 'scenario-d.csv'
    $rows = [ordered]@{
        "BatchRequest -AdaptiveThrottle -ThrottleLimit $OverloadCeiling" = @{ AdaptiveThrottle = $true; Throttle = $OverloadCeiling }
        "BatchRequest -ThrottleLimit $OverloadCap (the cap, known)"      = @{ Throttle = $OverloadCap }
    }
    $names = @($rows.Keys)
    $results = for ($run = 1; $run -le $Runs; $run++) {
        for ($k = 0; $k -lt $names.Count; $k++) {
            $name = $names[($k + $run - 1) % $names.Count]
            $with = $rows[$name]
            Reset-TestServer $Server
            Remove-Item -LiteralPath $csv -ErrorAction Ignore
            $measured = Invoke-BatchRequestProcess -RequestFile $requestFile -ExportCsvPath $csv -MaximumRetryCount $OverloadRetryCount @with
            $stats = Get-TestServerStats $Server
            $csvRows = if (Test-Path -LiteralPath $csv) { @(Import-Csv -LiteralPath $csv).Count } else { 0 }
            $attempts = [long]$stats.cappedServed + [long]$stats.cappedRejected
            $report = $measured.Extra
            $result = [pscustomobject]@{
                Tool              = $name
                Run               = $run
                ProcessSeconds    = $measured.ProcessSeconds
                InProcessSeconds  = $measured.InProcessSeconds
                Ok                = $measured.Ok
                Problem           = $measured.Problem
                CsvRows           = $csvRows
                Served            = [long]$stats.cappedServed
                Rejected          = [long]$stats.cappedRejected
                TurnedAway        = if ($attempts) { $stats.cappedRejected / $attempts } else { $null }
                CappedMaxInFlight = [long]$stats.cappedMaxInFlight
                Retries           = if ($report) { $report.retries } else { $null }
                Limit             = if ($report) { $report.concurrencyLimit } else { $null }
                Lowest            = if ($report) { $report.concurrencyLimitLowest } else { $null }
                Highest           = if ($report) { $report.concurrencyLimitHighest } else { $null }
            }
            $line = "  run $run  {0,-48} process {1,7} s  batch {2,7} s  ok {3}/{4}  served {5}  turned away {6} ({7})  in service {8}  limit {9} ({10}–{11})" -f $name,
                (Format-Number $result.ProcessSeconds), (Format-Number $result.InProcessSeconds), $result.Ok, $OverloadCount,
                $result.Served, $result.Rejected, (Format-Percent $result.TurnedAway), $result.CappedMaxInFlight,
                $result.Limit, $result.Lowest, $result.Highest
            if ($result.Problem) { $line += "  PROBLEM: $($result.Problem)" }
            Write-Host $line
            $result
        }
    }
    Remove-Item -LiteralPath $requestFile, $csv -ErrorAction Ignore
    [pscustomobject]@{ Name = 'D'; Count = $OverloadCount; Bound = $bound; Order = $names; Results = @($results) }
}

function Format-ScenarioD {
    param($Result)
    $bound = $Result.Bound
    $count = $Result.Count
    "## D: overload, $($count.ToString('N0', $Invariant)) records against a server that serves $OverloadCap at once ($OverloadMs ms each)"
    ''
    "The test server's ``/capped/$OverloadCap/$OverloadMs`` serves at most $OverloadCap requests at once, holds each $OverloadMs ms and answers 503 at"
    "once (no ``Retry-After``) to any over its cap. Bound N·L/cap = $(Format-Number $bound '0.000') s. Each row is the README pipeline"
    "``Import-RequestFile f.json | Invoke-BatchRequest … -MaximumRetryCount $OverloadRetryCount | Export-Csv out.csv`` in a pwsh of its own, other"
    "retry settings at their defaults (backoff with jitter from 1 s). Medians of $Runs run(s). *Turned away*: the share of"
    'attempts the server answered 503, cappedRejected / (cappedServed + cappedRejected). *Limit*: the BatchSummary''s'
    '`ConcurrencyLimit` at the end, `ConcurrencyLimitLowest`, `ConcurrencyLimitHighest` (a range where the runs differ).'
    ''
    '| Row | Whole process (s) | Batch (s) | × bound | Turned away | Retries | Succeeded | CSV rows | Limit at end | Lowest | Highest | Max in service |'
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
    $summaries = foreach ($name in $Result.Order) {
        $toolRuns = @($Result.Results | Where-Object Tool -EQ $name)
        if (-not $toolRuns) { continue }
        [pscustomobject]@{
            Tool           = $name
            Adaptive       = $name -like '*-AdaptiveThrottle*'
            Runs           = $toolRuns
            Process        = Get-Median @($toolRuns | ForEach-Object ProcessSeconds)
            InProcess      = Get-Median @($toolRuns | ForEach-Object InProcessSeconds)
            TurnedAway     = Get-Median @($toolRuns | ForEach-Object TurnedAway)
            TurnedAwayMost = (@($toolRuns | ForEach-Object TurnedAway | Where-Object { $null -ne $_ }) | Measure-Object -Maximum).Maximum
            Retries        = Get-Median @($toolRuns | ForEach-Object Retries)
            AllOkRuns      = @($toolRuns | Where-Object { $_.Ok -eq $count -and -not $_.Problem }).Count
            CsvOkRuns      = @($toolRuns | Where-Object CsvRows -EQ $count).Count
            ServedOnceRuns = @($toolRuns | Where-Object Served -EQ $count).Count
            InCapRuns      = @($toolRuns | Where-Object CappedMaxInFlight -LE $OverloadCap).Count
        }
    }
    foreach ($s in $summaries) {
        $ratio = if ($null -ne $s.InProcess) { $s.InProcess / $bound } else { $null }
        "| $($s.Tool) | $(Format-Number $s.Process) | $(Format-Number $s.InProcess) | $(Format-Number $ratio) | $(Format-Percent $s.TurnedAway) | $(Format-Number $s.Retries '0') | $(Format-Range @($s.Runs | ForEach-Object Ok)) | $(Format-Range @($s.Runs | ForEach-Object CsvRows)) | $(Format-Range @($s.Runs | ForEach-Object Limit)) | $(Format-Range @($s.Runs | ForEach-Object Lowest)) | $(Format-Range @($s.Runs | ForEach-Object Highest)) | $(Format-Range @($s.Runs | ForEach-Object CappedMaxInFlight)) |"
    }
    ''
    'Checks through the server and the summary:'
    ''
    foreach ($s in $summaries) {
        $runCount = $s.Runs.Count
        if ($s.Adaptive -and $null -ne $s.InProcess) {
            Format-Check ($s.InProcess / $bound -le 1.2) "Target: $($s.Tool) at most 1.2× the bound: $(Format-Number ($s.InProcess / $bound) '0.000')× (batch, median)"
        }
        $fewTurnedAway = @($s.Runs | Where-Object { $null -ne $_.TurnedAway -and $_.TurnedAway -le 0.05 }).Count
        Format-Check ($fewTurnedAway -eq $runCount) "$($s.Tool): at most 5 % of the attempts turned away in $fewTurnedAway of $runCount runs (median $(Format-Percent $s.TurnedAway), highest $(Format-Percent $s.TurnedAwayMost))"
        Format-Check ($s.AllOkRuns -eq $runCount) "$($s.Tool): every record succeeded in $($s.AllOkRuns) of $runCount runs"
        Format-Check ($s.CsvOkRuns -eq $runCount) "$($s.Tool): Export-Csv wrote one row per record in $($s.CsvOkRuns) of $runCount runs"
        Format-Check ($s.ServedOnceRuns -eq $runCount) "$($s.Tool): the server served every record exactly once (cappedServed = N) in $($s.ServedOnceRuns) of $runCount runs"
        Format-Check ($s.InCapRuns -eq $runCount) "$($s.Tool): never more than $OverloadCap in service (cappedMaxInFlight) in $($s.InCapRuns) of $runCount runs"
    }
    $problems = @($Result.Results | Where-Object Problem | ForEach-Object { "- $($_.Tool), run $($_.Run): $($_.Problem)" })
    if ($problems) { ''; 'Problems:'; ''; $problems }
    ''
}

#endregion

#region S: cold start, ReadyToRun against IL

function Get-ReadyToRunVersion {
    <#
        The ReadyToRun format version of an assembly's precompiled code ($null for IL only): its managed native header
        starts with the signature 'RTR' and the major and minor version. A runtime uses only the versions it knows.
    #>
    param([string] $Path)
    $reader = [Reflection.PortableExecutable.PEReader]::new([IO.File]::OpenRead($Path))
    try {
        $directory = $reader.PEHeaders.CorHeader.ManagedNativeHeaderDirectory
        if ($directory.Size -lt 8) { return $null }
        $header = [byte[]]@($reader.GetSectionData($directory.RelativeVirtualAddress).GetContent(0, 8))
        if ([BitConverter]::ToUInt32($header, 0) -ne 0x00525452) { return $null }
        [version]::new([BitConverter]::ToUInt16($header, 4), [BitConverter]::ToUInt16($header, 6))
    }
    finally {
        $reader.Dispose()
    }
}

function Get-ModuleAssemblies {
    param([string] $ModuleDir)
    @(Get-ChildItem -LiteralPath (Join-Path $ModuleDir 'bin'), (Join-Path $ModuleDir 'bin/dependencies') -Filter *.dll -File)
}

function New-IlModuleCopy {
    <#
        The built module with the IL assemblies the compiler wrote in place of the ReadyToRun images that build.ps1
        made of them: the same manifest, files and layout, so that only the precompiled code differs.
    #>
    $source = Split-Path -Parent $ModulePath
    $ilBuild = Join-Path $RepoRoot 'src/BatchRequest.Module/bin/Release/net8.0'
    $parent = Join-Path $WorkDir 'il'
    Remove-Item -LiteralPath $parent -Recurse -Force -ErrorAction Ignore
    $null = New-Item -ItemType Directory -Path $parent -Force
    Copy-Item -LiteralPath $source -Destination $parent -Recurse
    $target = Join-Path $parent (Split-Path -Leaf $source)
    foreach ($assembly in Get-ModuleAssemblies $target) {
        $il = Join-Path $ilBuild $assembly.Name
        if (-not (Test-Path -LiteralPath $il -PathType Leaf)) { throw "No IL build of $($assembly.Name) in $($ilBuild): build first." }
        Copy-Item -LiteralPath $il -Destination $assembly.FullName -Force
    }
    Join-Path $target (Split-Path -Leaf $ModulePath)
}

function Invoke-ScenarioS {
    <# A fresh pwsh per run: Import-Module, then 100 records to /delay/0 | Export-Csv; IL and ReadyToRun alternate. #>
    param($Server)
    Write-Host "S: cold start, $ColdStartRuns runs each of the IL and the ReadyToRun module, alternating; $ColdStartCount records, T=$ThrottleLimit"
    $variants = [ordered]@{ 'IL' = New-IlModuleCopy; 'ReadyToRun' = $ModulePath }
    $images = [ordered]@{}
    foreach ($name in $variants.Keys) {
        $versions = @(Get-ModuleAssemblies (Split-Path -Parent $variants[$name]) | ForEach-Object { Get-ReadyToRunVersion $_.FullName })
        $found = @($versions | Where-Object { $null -ne $_ })
        $images[$name] = [pscustomobject]@{
            Total      = $versions.Count
            ReadyToRun = $found.Count
            Versions   = @($found | ForEach-Object { "$_" } | Sort-Object -Unique)
        }
    }
    # The runtime's own framework is precompiled in the format this runtime reads.
    $runtimeImage = [uri].Assembly.Location
    $images['Runtime'] = [pscustomobject]@{ Name = Split-Path -Leaf $runtimeImage; Version = Get-ReadyToRunVersion $runtimeImage }
    $records = for ($i = 1; $i -le $ColdStartCount; $i++) { @{ id = "s-$i"; uri = "$($Server.BaseUri)delay/0?id=s-$i" } }
    $requestFile = New-RequestFile -Path (Join-Path $WorkDir 'scenario-s.json') -Records $records
    $csv = Join-Path $WorkDir 'scenario-s.csv'
    # Run 0, one of each, is not counted: it warms the file cache and PowerShell's startup JIT profile.
    $results = for ($run = 0; $run -le $ColdStartRuns; $run++) {
        foreach ($name in $variants.Keys) {
            Reset-TestServer $Server
            Remove-Item -LiteralPath $csv -ErrorAction Ignore
            $measured = Invoke-BatchRequestProcess -RequestFile $requestFile -ExportCsvPath $csv -Module $variants[$name]
            $stats = Get-TestServerStats $Server
            $report = $measured.Extra
            $result = [pscustomobject]@{
                Tool             = $name
                Run              = $run
                ProcessSeconds   = $measured.ProcessSeconds
                ImportSeconds    = if ($report) { $report.importSeconds } else { $null }
                StartedSeconds   = if ($report) { $report.startedSeconds } else { $null }
                InProcessSeconds = $measured.InProcessSeconds
                Jitted           = if ($report) { $report.jittedMethods } else { $null }
                JitMilliseconds  = if ($report) { $report.jitMilliseconds } else { $null }
                Ok               = $measured.Ok
                Served           = [long]$stats.served
                Problem          = $measured.Problem
            }
            $line = "  run $run  {0,-10} process {1,6} s  import {2,6} s  import+batch {3,6} s  jitted {4,6} ({5} ms)  ok {6}/{7}  served {8}{9}" -f $name,
                (Format-Number $result.ProcessSeconds '0.000'), (Format-Number $result.ImportSeconds '0.000'),
                (Format-Number $result.StartedSeconds '0.000'), $result.Jitted, (Format-Number $result.JitMilliseconds '0'),
                $result.Ok, $ColdStartCount, $result.Served, $(if ($run -eq 0) { '  (not counted)' } else { '' })
            if ($result.Problem) { $line += "  PROBLEM: $($result.Problem)" }
            Write-Host $line
            if ($run -gt 0) { $result }
        }
    }
    Remove-Item -LiteralPath $requestFile, $csv -ErrorAction Ignore
    [pscustomobject]@{ Name = 'S'; Count = $ColdStartCount; Images = $images; Results = @($results) }
}

function Format-ScenarioS {
    param($Result)
    $count = $Result.Count
    "## S: cold start, the first batch in a fresh pwsh: ReadyToRun module against IL"
    ''
    "Each run is a fresh ``pwsh -NoProfile -File bench/Measure-BatchRequestProcess.ps1``: a Stopwatch, ``Import-Module``, then"
    "``Import-RequestFile`` of $count records to ``/delay/0`` ``| Invoke-BatchRequest -ThrottleLimit $ThrottleLimit | Export-Csv``. *ReadyToRun* is"
    '`out/BatchRequest` as build.ps1 makes it (crossgen2 for the runtime PowerShell runs on); *IL* is a copy in'
    '`out/bench/il/BatchRequest` whose `bin/*.dll` and `bin/dependencies/*.dll` are the compiler''s IL from'
    '`src/BatchRequest.Module/bin/Release/net8.0`. The two alternate (IL, ReadyToRun, IL, …), so that PowerShell''s multicore'
    'JIT profile (`~/.cache/powershell`, written by each run for the next) treats both alike; one pair before the'
    "counted runs warms the file cache and that profile. Medians of $ColdStartRuns run(s) each; the last row is the difference of"
    'the medians. *Methods jitted*, *JIT time*: methods compiled and time spent compiling, on every thread, from before'
    '`Import-Module` to the end of the batch (`System.Runtime.JitInfo`). A runtime ignores precompiled code of a ReadyToRun'
    'format (major version) it does not read and compiles those methods from IL, so the images'' format is checked against'
    'that of the runtime''s own framework.'
    ''
    '| Module | Precompiled assemblies | Import-Module (s) | Import + batch (s) | Whole process (s) | Methods jitted | JIT time (ms) | All 2xx |'
    '|---|---:|---:|---:|---:|---:|---:|---:|'
    $medians = [ordered]@{}
    foreach ($name in $Result.Images.Keys | Where-Object { $_ -ne 'Runtime' }) {
        $toolRuns = @($Result.Results | Where-Object Tool -EQ $name)
        $images = $Result.Images[$name]
        $m = [pscustomobject]@{
            Import    = Get-Median @($toolRuns | ForEach-Object ImportSeconds)
            Started   = Get-Median @($toolRuns | ForEach-Object StartedSeconds)
            Process   = Get-Median @($toolRuns | ForEach-Object ProcessSeconds)
            Jitted    = Get-Median @($toolRuns | ForEach-Object Jitted)
            JitTime   = Get-Median @($toolRuns | ForEach-Object JitMilliseconds)
            AllOkRuns = @($toolRuns | Where-Object { $_.Ok -eq $count -and $_.Served -eq $count -and -not $_.Problem }).Count
            Runs      = $toolRuns.Count
        }
        $medians[$name] = $m
        $formats = if ($images.Versions) { " (v$($images.Versions -join ', v'))" } else { '' }
        "| $name | $($images.ReadyToRun) of $($images.Total)$formats | $(Format-Number $m.Import '0.000') | $(Format-Number $m.Started '0.000') | $(Format-Number $m.Process '0.000') | $(Format-Number $m.Jitted '0') | $(Format-Number $m.JitTime '0') | $($m.AllOkRuns)/$($m.Runs) runs |"
    }
    $il = $medians['IL']; $r2r = $medians['ReadyToRun']
    if ($il -and $r2r) {
        $difference = { param($a, $b) if ($null -ne $a -and $null -ne $b) { $a - $b } else { $null } }
        "| IL − ReadyToRun | | $(Format-Number (& $difference $il.Import $r2r.Import) '0.000') | $(Format-Number (& $difference $il.Started $r2r.Started) '0.000') | $(Format-Number (& $difference $il.Process $r2r.Process) '0.000') | $(Format-Number (& $difference $il.Jitted $r2r.Jitted) '0') | $(Format-Number (& $difference $il.JitTime $r2r.JitTime) '0') | |"
    }
    ''
    'Checks:'
    ''
    $ilImages = $Result.Images['IL']; $r2rImages = $Result.Images['ReadyToRun']
    Format-Check ($r2rImages.ReadyToRun -eq $r2rImages.Total) "out/BatchRequest: $($r2rImages.ReadyToRun) of $($r2rImages.Total) assemblies are ReadyToRun images"
    $runtime = $Result.Images['Runtime']
    if ($runtime.Version -and $r2rImages.Versions) {
        $sameMajor = @($r2rImages.Versions | Where-Object { ([version]$_).Major -ne $runtime.Version.Major }).Count -eq 0
        Format-Check $sameMajor "out/BatchRequest's images are ReadyToRun format v$($r2rImages.Versions -join ', v'); this runtime's own $($runtime.Name) is v$($runtime.Version) (the same major version expected)"
    }
    Format-Check ($ilImages.ReadyToRun -eq 0) "the IL copy: $($ilImages.ReadyToRun) of $($ilImages.Total) assemblies are ReadyToRun images"
    foreach ($name in $medians.Keys) {
        $m = $medians[$name]
        Format-Check ($m.AllOkRuns -eq $m.Runs) "${name}: every record succeeded and arrived in $($m.AllOkRuns) of $($m.Runs) runs"
    }
    $problems = @($Result.Results | Where-Object Problem | ForEach-Object { "- $($_.Tool), run $($_.Run): $($_.Problem)" })
    if ($problems) { ''; 'Problems:'; ''; $problems }
    ''
}

#endregion

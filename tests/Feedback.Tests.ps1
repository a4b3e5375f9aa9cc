# What Invoke-BatchRequest tells and keeps beside its results: the summary, progress, -WhatIf, the User-Agent,
# bodies written to files; and Tab completion of New-BatchRequest -Method.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $script:Server = Start-TestServer
    $script:Base = $Server.BaseUri
    $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "batchrequest-$([guid]::NewGuid())")).FullName

    function Invoke-ChildPwsh([string] $Script) {
        <# Runs a script in a fresh pwsh with the built module imported and returns what its host printed. #>
        $pwsh = @(Get-PwshCommand)
        $command = "Import-Module '$(Get-BuiltModulePath)'; $Script"
        $printed = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $command 2>&1
        $printed -join "`n"
    }

    function Start-HostedBatch([scriptblock] $Script, [object[]] $Arguments) {
        <# Starts a script in its own runspace, the module imported, and returns the shell and its output. #>
        $shell = [powershell]::Create()
        $output = [Management.Automation.PSDataCollection[psobject]]::new()
        $null = $shell.AddScript("Import-Module '$(Get-BuiltModulePath)'").AddStatement().AddScript($Script)
        foreach ($argument in $Arguments) { $null = $shell.AddArgument($argument) }
        $running = $shell.BeginInvoke([Management.Automation.PSDataCollection[psobject]]::new(), $output)
        [pscustomobject]@{ Shell = $shell; Output = $output; Running = $running }
    }
}

AfterAll {
    Stop-TestServer $Server
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'Invoke-BatchRequest feedback' {
    BeforeEach {
        Reset-TestServer $Server
    }

    It 'writes a summary whose text names the counts by status, the rate, the percentiles and the limit' {
        $file = New-RequestFile -Path (Join-Path $Work 'summary.json') -Records @(
            foreach ($i in 1..3) { @{ id = "ok$i"; uri = "$($Base)delay/1?id=ok$i" } }
            @{ id = 'gone'; uri = "$($Base)status/404?id=gone" }
        )

        $null = Import-RequestFile $file | Invoke-BatchRequest -ThrottleLimit 7 -InformationVariable info -ErrorAction SilentlyContinue
        $printed = Invoke-ChildPwsh "Import-RequestFile '$file' | Invoke-BatchRequest -InformationAction Continue -ErrorAction SilentlyContinue | Out-Null"

        $summary = ($info | Where-Object Tags -Contains 'BatchSummary').MessageData
        $text = $summary.ToString()
        $text | Should -BeLike '4 records in * s (*/s): 3 Succeeded, 1 Failed; 0 retries; latency p50 *, p95 *, p99 *; concurrency limit 7 (lowest 7, highest 7)'
        $printed | Should -BeLike '*4 records in * 3 Succeeded, 1 Failed;*concurrency limit 10*'
        $printed | Should -Not -BeLike '*BatchRequest.Model.Reporting.BatchSummary*'
        ($summary | Out-String) | Should -BeLike '*Succeeded 3, Failed 1*'
    }

    It 'writes the summary of a stopped batch, counting what the stop left NotSent or Canceled' {
        $records = foreach ($i in 1..400) { @{ id = "st$i"; uri = "$($Base)delay/200?id=st$i" } }
        $file = New-RequestFile -Path (Join-Path $Work 'stopped.json') -Records $records
        $batch = Start-HostedBatch { param($File) Import-RequestFile $File | Invoke-BatchRequest -ThrottleLimit 20 } $file
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while ($batch.Output.Count -lt 40 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }

            $batch.Shell.Stop()

            $emitted = $batch.Output.Count
            $summary = @($batch.Shell.Streams.Information | Where-Object Tags -Contains 'BatchSummary').MessageData
            $summary.Count | Should -Be 1
            $summary[0].Succeeded | Should -BeGreaterOrEqual $emitted
            ($summary[0].Canceled + $summary[0].NotSent) | Should -BeGreaterThan 0
            $summary[0].Total | Should -Be ($summary[0].Succeeded + $summary[0].Canceled + $summary[0].NotSent + $summary[0].Failed)
            $summary[0].Total | Should -BeLessThan 400
            $summary[0].ToString() | Should -BeLike '* Succeeded, *Canceled*'
        }
        finally {
            $batch.Shell.Dispose()
        }
    }

    It 'shows percent and time left for records from a file before its input has ended' {
        $records = foreach ($i in 1..120) { @{ id = "pr$i"; uri = "$($Base)delay/20?id=pr$i" } }
        $file = New-RequestFile -Path (Join-Path $Work 'progress.json') -Records $records
        $batch = Start-HostedBatch {
            param($File)
            $ProgressPreference = 'Continue'
            Import-RequestFile $File | Invoke-BatchRequest -ThrottleLimit 4
        } $file
        try {
            $null = $batch.Shell.EndInvoke($batch.Running)

            $progress = @($batch.Shell.Streams.Progress | Where-Object RecordType -EQ 'Processing')
            $progress.Count | Should -BeGreaterThan 1
            # The first record is written when the first result is, long before the input ends: only the file can tell the total.
            $progress[0].PercentComplete | Should -BeGreaterOrEqual 0
            $progress[0].StatusDescription | Should -BeLike '* of 120 done, * in flight, * waiting to retry, * queued,*'
            @($progress | Where-Object { $_.PercentComplete -ge 0 -and $_.SecondsRemaining -ge 0 }).Count | Should -BeGreaterThan 0
        }
        finally {
            $batch.Shell.Dispose()
        }
    }

    It 'shows no percent for records built in a script until their input has ended' {
        $batch = Start-HostedBatch {
            param($Base)
            $ProgressPreference = 'Continue'
            1..8 | ForEach-Object { New-BatchRequest "$($Base)delay/100?id=nb$_" } | Invoke-BatchRequest -ThrottleLimit 2
        } $Base
        try {
            $null = $batch.Shell.EndInvoke($batch.Running)

            $progress = @($batch.Shell.Streams.Progress | Where-Object RecordType -EQ 'Processing')
            $progress[0].PercentComplete | Should -Be -1
        }
        finally {
            $batch.Shell.Dispose()
        }
    }
}

Describe 'Invoke-BatchRequest habits of Invoke-RestMethod' {
    BeforeEach {
        Reset-TestServer $Server
    }

    It 'sends a User-Agent naming the module and PowerShell, -UserAgent replaces it and a record''s own header wins' {
        $file = New-RequestFile -Path (Join-Path $Work 'agent.json') -Records @(
            @{ id = 'ua1'; uri = "$($Base)echo?id=ua1" }
            @{ id = 'ua2'; uri = "$($Base)echo?id=ua2"; headers = @{ 'User-Agent' = 'Mine/2.0' } }
        )
        $version = (Get-Module BatchRequest).Version

        $default = Import-RequestFile $file | Invoke-BatchRequest -Ordered
        $custom = Import-RequestFile $file | Invoke-BatchRequest -Ordered -UserAgent 'Nightly-Sync/1.0'

        ($default[0].Content | ConvertFrom-Json).headers.'User-Agent' | Should -Be "BatchRequest/$version PowerShell/$($PSVersionTable.PSVersion)"
        ($custom[0].Content | ConvertFrom-Json).headers.'User-Agent' | Should -Be 'Nightly-Sync/1.0'
        ($default[1].Content | ConvertFrom-Json).headers.'User-Agent' | Should -Be 'Mine/2.0'
        ($custom[1].Content | ConvertFrom-Json).headers.'User-Agent' | Should -Be 'Mine/2.0'
    }

    It 'refuses a -UserAgent that could inject a header, sending nothing' {
        $file = New-RequestFile -Path (Join-Path $Work 'agent-bad.json') -Records @(@{ id = 'uab'; uri = "$($Base)echo?id=uab" })

        { Import-RequestFile $file | Invoke-BatchRequest -UserAgent "x`r`nX-Evil: 1" } |
            Should -Throw -ErrorId 'HeaderValueInvalid,BatchRequest.Commands.InvokeBatchRequestCommand'
        (Get-TestServerStats $Server).served | Should -Be 0
    }

    It 'writes binary and chunked bodies to files byte for byte, named after the record ids' {
        $out = (New-Item -ItemType Directory -Path (Join-Path $Work 'bodies')).FullName
        $file = New-RequestFile -Path (Join-Path $Work 'bodies.json') -Records @(
            @{ id = 'bin'; uri = "$($Base)bytes/100000?id=bin&seed=3" }
            @{ id = 'chunks'; uri = "$($Base)chunked/3000000?id=chunks&seed=4" }
            @{ id = 'orders/17'; uri = "$($Base)bytes/0?id=orders17" }
            @{ id = 'missing'; uri = "$($Base)status/404?id=missing" }
        )

        $results = Import-RequestFile $file | Invoke-BatchRequest -Ordered -OutDirectory $out -MaximumResponseBytes 1000 -ErrorAction SilentlyContinue

        $results[0].OutFile | Should -Be (Join-Path $out 'bin')
        $results[1].OutFile | Should -Be (Join-Path $out 'chunks')
        $results[1].Headers.ContainsKey('Content-Length') | Should -BeFalse -Because 'the body must have come chunked'
        foreach ($result in $results[0..1]) {
            $result.Status | Should -Be 'Succeeded'
            $result.Content | Should -BeNullOrEmpty
            (Get-FileHash -LiteralPath $result.OutFile -Algorithm SHA256).Hash | Should -Be $result.Headers['X-Body-Sha256']
        }
        (Get-Item -LiteralPath $results[1].OutFile).Length | Should -Be 3000000
        Split-Path -Leaf $results[2].OutFile | Should -BeLike 'orders_17~*'
        (Get-Item -LiteralPath $results[2].OutFile).Length | Should -Be 0
        $results[3].Status | Should -Be 'Failed'
        Get-Content -LiteralPath $results[3].OutFile -Raw | Should -BeLike '*404*'
        @(Get-ChildItem -LiteralPath $out).Count | Should -Be 4
    }

    It 'ends a body larger than -MaximumOutFileSize as ResponseTooLarge and leaves no file' {
        $out = (New-Item -ItemType Directory -Path (Join-Path $Work 'capped')).FullName
        $file = New-RequestFile -Path (Join-Path $Work 'capped.json') -Records @(@{ id = 'big'; uri = "$($Base)chunked/50000?id=big" })

        $result = Import-RequestFile $file | Invoke-BatchRequest -OutDirectory $out -MaximumOutFileSize 40000 -ErrorAction SilentlyContinue

        $result.ErrorKind | Should -Be 'ResponseTooLarge'
        $result.OutFile | Should -BeNullOrEmpty
        @(Get-ChildItem -LiteralPath $out -Force).Count | Should -Be 0
    }

    It 'refuses a missing -OutDirectory up front, sending nothing' {
        $file = New-RequestFile -Path (Join-Path $Work 'nowhere.json') -Records @(@{ id = 'n1'; uri = "$($Base)bytes/10?id=n1" })

        { Import-RequestFile $file | Invoke-BatchRequest -OutDirectory (Join-Path $Work 'no-such-folder') } |
            Should -Throw -ErrorId 'OutDirectoryMissing,BatchRequest.Commands.InvokeBatchRequestCommand'
        (Get-TestServerStats $Server).served | Should -Be 0
    }

    It 'shows under -WhatIf the method, the masked URI, every header with secrets masked, and the body size' {
        $secret = 'S3cret-' + [guid]::NewGuid().ToString('N')
        $file = New-RequestFile -Path (Join-Path $Work 'whatif.json') -Records @(@{
                id = 'wi1'; method = 'POST'; uri = "$($Base)echo?id=wi1&token=$secret"
                headers = @{ 'X-Api-Key' = $secret; 'X-Trace' = 'visible' }; body = 'fourteen bytes'
            })

        $printed = Invoke-ChildPwsh "Import-RequestFile '$file' | Invoke-BatchRequest -WhatIf -Headers @{ 'X-Signature' = '$secret' } -SecretHeader X-Signature"

        $printed | Should -Not -BeLike "*$secret*"
        $printed | Should -BeLike "*POST $($Base)echo?id=wi1&token=`*`*`**"
        $printed | Should -BeLike '*X-Api-Key: `*`*`**'
        $printed | Should -BeLike '*X-Signature: `*`*`**'
        $printed | Should -BeLike '*X-Trace: visible*'
        $printed | Should -BeLike '*User-Agent: BatchRequest/*'
        $printed | Should -BeLike '*body: 14 bytes*'
        (Get-TestServerStats $Server).served | Should -Be 0
    }
}

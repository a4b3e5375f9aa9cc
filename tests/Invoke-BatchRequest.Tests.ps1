BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $script:Server = Start-TestServer
    $script:Base = $Server.BaseUri
    $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "batchrequest-$([guid]::NewGuid())")).FullName
}

AfterAll {
    Stop-TestServer $Server
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'Invoke-BatchRequest' {
    BeforeEach {
        Reset-TestServer $Server
    }

    It 'keeps exactly ThrottleLimit requests in flight and sends every record once' {
        $records = foreach ($i in 1..200) { @{ id = "t$i"; uri = "$($Base)delay/100?id=t$i" } }
        $file = New-RequestFile -Path (Join-Path $Work 'throttle.json') -Records $records

        $results = Import-RequestFile $file | Invoke-BatchRequest -ThrottleLimit 40

        $stats = Get-TestServerStats $Server
        $stats.maxInFlight | Should -Be 40
        $stats.connections | Should -BeLessOrEqual 40
        $ledger = Get-TestServerLedger $Server
        $ledger.Count | Should -Be 200
        @($ledger.id | Sort-Object -Unique).Count | Should -Be 200
        $results.Count | Should -Be 200
        @($results.Id | Sort-Object -Unique).Count | Should -Be 200
        $results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
    }

    It 'emits results that round-trip through Export-Csv' {
        $records = foreach ($i in 1..5) { @{ id = "csv$i"; uri = "$($Base)delay/1?id=csv$i" } }
        $file = New-RequestFile -Path (Join-Path $Work 'csv.json') -Records $records
        $csv = Join-Path $Work 'results.csv'

        Import-RequestFile $file | Invoke-BatchRequest | Export-Csv -LiteralPath $csv

        $rows = Import-Csv -LiteralPath $csv
        $rows.Count | Should -Be 5
        ($rows.Id | Sort-Object) | Should -Be @('csv1', 'csv2', 'csv3', 'csv4', 'csv5')
        $rows | ForEach-Object {
            $_.Status | Should -Be 'Succeeded'
            $_.StatusCode | Should -Be '200'
            $_.Attempts | Should -Be '1'
            $_.Method | Should -Be 'GET'
            $_.Uri | Should -BeLike "$($Base)delay/1?id=csv*"
        }
    }

    It 'reports a failed record as a non-terminating error with a stable id and goes on' {
        $records = @(
            @{ id = 'ok1'; uri = "$($Base)delay/1?id=ok1" }
            @{ id = 'missing'; uri = "$($Base)status/404?id=missing" }
            @{ id = 'ok2'; uri = "$($Base)delay/1?id=ok2" }
        )
        $file = New-RequestFile -Path (Join-Path $Work 'mixed.json') -Records $records

        $results = Import-RequestFile $file | Invoke-BatchRequest -ErrorVariable failures -ErrorAction SilentlyContinue

        $results.Count | Should -Be 3
        ($results | Where-Object Id -EQ 'missing').Status | Should -Be 'Failed'
        ($results | Where-Object Id -EQ 'missing').StatusCode | Should -Be 404
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'RequestHttpStatus,BatchRequest.Commands.InvokeBatchRequestCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failures[0].TargetObject.Id | Should -Be 'missing'
    }

    It 'gives a JSON answer as objects in Data, as Invoke-RestMethod would, and nothing for other bodies' {
        $file = New-RequestFile -Path (Join-Path $Work 'data.json') -Records @(
            @{ id = 'j1'; method = 'POST'; uri = "$($Base)echo?id=j1"; body = @{ sku = 'A-17'; qty = 2 } }
            @{ id = 'j2'; uri = "$($Base)huge/0?id=j2" }
        )

        $results = Import-RequestFile $file | Invoke-BatchRequest -Ordered

        $results[0].Data.method | Should -Be 'POST'
        ($results[0].Data.body | ConvertFrom-Json).qty | Should -Be 2
        $results[0].Data.headers.'Content-Type' | Should -Be 'application/json'
        $results[1].Data | Should -BeNullOrEmpty
    }

    It 'retries a flaky record and reports its attempts' {
        $file = New-RequestFile -Path (Join-Path $Work 'flaky.json') -Records @(@{ id = 'f1'; uri = "$($Base)flaky/2/503?id=f1" })

        $result = Import-RequestFile $file | Invoke-BatchRequest -RetryIntervalSec 0.01

        $result.Status | Should -Be 'Succeeded'
        $result.Attempts | Should -Be 3
        @(Get-TestServerLedger $Server).Count | Should -Be 3
    }

    It 'sends nothing under -WhatIf' {
        $file = New-RequestFile -Path (Join-Path $Work 'whatif.json') -Records @(@{ id = 'w1'; uri = "$($Base)delay/1?id=w1" })

        $results = Import-RequestFile $file | Invoke-BatchRequest -WhatIf

        $results | Should -BeNullOrEmpty
        (Get-TestServerStats $Server).served | Should -Be 0
    }

    It 'tells each record it sends on the verbose stream under -Verbose, as ShouldProcess does, and sends them' {
        $file = New-RequestFile -Path (Join-Path $Work 'verbose.json') -Records @(
            @{ id = 'vb1'; uri = "$($Base)status/200?id=vb1" }, @{ id = 'vb2'; uri = "$($Base)status/200?id=vb2" })

        $output = Import-RequestFile $file | Invoke-BatchRequest -Verbose 4>&1
        $told = @($output | Where-Object { $_ -is [Management.Automation.VerboseRecord] -and $_.Message -like '*id=vb*' })

        @($output | Where-Object { $_ -is [BatchRequest.Model.Results.BatchResult] }).Status | Should -Be 'Succeeded', 'Succeeded'
        $told.Count | Should -Be 2
        $told.Message | Should -Match 'GET .*id=vb[12]'
    }

    It 'returns within 2 s of PowerShell.Stop() at half of 1,000 records, keeps what it emitted and sends nothing afterwards' {
        $records = foreach ($i in 1..1000) { @{ id = "s$i"; uri = "$($Base)delay/100?id=s$i" } }
        $file = New-RequestFile -Path (Join-Path $Work 'stop.json') -Records $records
        $shell = [powershell]::Create()
        $output = [Management.Automation.PSDataCollection[psobject]]::new()
        try {
            $null = $shell.AddScript({
                    param($ModulePath, $File)
                    Import-Module $ModulePath
                    Import-RequestFile $File | Invoke-BatchRequest -ThrottleLimit 40
                }).AddArgument((Get-BuiltModulePath)).AddArgument($file)
            $running = $shell.BeginInvoke([Management.Automation.PSDataCollection[psobject]]::new(), $output)
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while ($output.Count -lt 500 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }

            $clock = [Diagnostics.Stopwatch]::StartNew()
            $shell.Stop()
            $clock.Stop()

            $clock.Elapsed.TotalSeconds | Should -BeLessThan 2
            $running.IsCompleted | Should -BeTrue
            $output.Count | Should -BeGreaterOrEqual 500
            @($output.Id | Sort-Object -Unique).Count | Should -Be $output.Count
            $servedAtStop = (Get-TestServerStats $Server).served
            $servedAtStop | Should -BeLessThan 1000
            Wait-TestServerQuiet $Server | Should -Be $servedAtStop
        }
        finally {
            $shell.Dispose()
        }
    }

    It 'emits results in input order with -Ordered despite random latencies' {
        $random = [Random]::new(11)
        $records = foreach ($i in 1..60) { @{ id = "o$i"; uri = "$($Base)delay/$($random.Next(0, 60))?id=o$i" } }
        $file = New-RequestFile -Path (Join-Path $Work 'ordered.json') -Records $records

        $results = Import-RequestFile $file | Invoke-BatchRequest -ThrottleLimit 8 -Ordered

        $results.Id | Should -Be @($records.id)
    }

    It 'pauses every worker of a host that answers 429 with Retry-After, then finishes without a burst' {
        $records = foreach ($i in 1..30) { @{ id = "p$i"; uri = "$($Base)throttle-all/1500?id=p$i&retryAfter=1" } }
        $file = New-RequestFile -Path (Join-Path $Work 'pause.json') -Records $records

        $results = Import-RequestFile $file | Invoke-BatchRequest -ThrottleLimit 10 -MaximumRetryCount 5

        $results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
        $stats = Get-TestServerStats $Server
        $stats.maxInFlight | Should -BeLessOrEqual 10
        # Each worker meets the closed window once or twice; without the shared pause every retry would add up.
        ($stats.served - 30) | Should -BeLessOrEqual 20
    }

    It 'starts no more than <Rate> attempts per second under -RequestsPerSecond <Rate>' -TestCases @(
        @{ Rate = 20; FirstHalfSecond = 12 }
        @{ Rate = 15; FirstHalfSecond = 9 }
    ) {
        param($Rate, $FirstHalfSecond)
        $records = foreach ($i in 1..30) { @{ id = "r$i"; uri = "$($Base)delay/1?id=r$i" } }
        $file = New-RequestFile -Path (Join-Path $Work 'rate.json') -Records $records

        $results = Import-RequestFile $file | Invoke-BatchRequest -ThrottleLimit 30 -RequestsPerSecond $Rate

        $results.Count | Should -Be 30
        $times = (Get-TestServerLedger $Server).time | ForEach-Object { [DateTimeOffset]$_ } | Sort-Object
        # Half a second's worth plus one refill step; a slower machine only spreads arrivals further.
        @($times | Where-Object { $_ -lt $times[0].AddMilliseconds(500) }).Count | Should -BeLessOrEqual $FirstHalfSecond
        ($times[-1] - $times[0]).TotalSeconds | Should -BeGreaterThan (29 / $Rate - 0.3)
    }

    It 'counts StartTime and DurationMs from the first attempt, not from the wait for the rate before it' {
        $records = foreach ($i in 1..5) { @{ id = "pw$i"; uri = "$($Base)delay/1?id=pw$i" } }
        $file = New-RequestFile -Path (Join-Path $Work 'paced-wait.json') -Records $records

        $results = @(Import-RequestFile $file | Invoke-BatchRequest -ThrottleLimit 5 -RequestsPerSecond 4 | Sort-Object StartTime)

        $results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
        # The rate holds the fifth record about a second before its attempt: none of that is its duration.
        $results | ForEach-Object { $_.DurationMs | Should -BeLessThan 200 -Because "$($_.Id) waited for the rate before its attempt" }
        ($results[-1].StartTime - $results[0].StartTime).TotalSeconds | Should -BeGreaterThan 0.7
    }

    It 'stops sending when a downstream command has had enough' {
        $records = foreach ($i in 1..200) { @{ id = "f$i"; uri = "$($Base)delay/200?id=f$i" } }
        $file = New-RequestFile -Path (Join-Path $Work 'first.json') -Records $records

        $first = Import-RequestFile $file | Invoke-BatchRequest -ThrottleLimit 10 | Select-Object -First 3

        $first.Count | Should -Be 3
        $served = (Get-TestServerStats $Server).served
        $served | Should -BeLessThan 40
        Wait-TestServerQuiet $Server | Should -Be $served
    }

    It 'announces every retry on the verbose stream with the reason and the delay' {
        $file = New-RequestFile -Path (Join-Path $Work 'verbose.json') -Records @(@{ id = 'v1'; uri = "$($Base)flaky/1/503?id=v1" })

        $verbose = Import-RequestFile $file | Invoke-BatchRequest -RetryIntervalSec 0.01 -Verbose 4>&1 |
            Where-Object { $_ -is [Management.Automation.VerboseRecord] -and $_.Message -like 'v1:*' }

        $verbose.Count | Should -Be 1
        $verbose[0].Message | Should -BeLike 'v1: GET *flaky/1/503?id=v1 failed with 503 (Service Unavailable); attempt 2 in * s (exponential backoff).'
    }

    It 'writes a summary to the information stream, and Measure-BatchResult computes the same' {
        $records = @(
            foreach ($i in 1..4) { @{ id = "m$i"; uri = "$($Base)delay/5?id=m$i" } }
            @{ id = 'm5'; uri = "$($Base)status/422?id=m5" }
        )
        $file = New-RequestFile -Path (Join-Path $Work 'summary.json') -Records $records

        $results = Import-RequestFile $file | Invoke-BatchRequest -InformationVariable info -ErrorAction SilentlyContinue
        $measured = $results | Measure-BatchResult

        $summary = ($info | Where-Object Tags -Contains 'BatchSummary').MessageData
        foreach ($candidate in $summary, $measured) {
            $candidate.Total | Should -Be 5
            $candidate.Succeeded | Should -Be 4
            $candidate.Failed | Should -Be 1
            $candidate.ByStatusCode[422] | Should -Be 1
            $candidate.LatencyP50 | Should -BeGreaterThan ([TimeSpan]::Zero)
        }
    }

    It 'writes no error record for HTTP failures under -SkipHttpErrorCheck' {
        $file = New-RequestFile -Path (Join-Path $Work 'skip.json') -Records @(@{ id = 'k1'; uri = "$($Base)status/404?id=k1" })

        $result = Import-RequestFile $file | Invoke-BatchRequest -SkipHttpErrorCheck -ErrorVariable failures

        $failures.Count | Should -Be 0
        $result.Status | Should -Be 'Failed'
        $result.StatusCode | Should -Be 404
    }
}

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

    It 'returns within 2 s of PowerShell.Stop() and sends nothing afterwards' {
        $records = foreach ($i in 1..1000) { @{ id = "s$i"; uri = "$($Base)delay/5000?id=s$i" } }
        $file = New-RequestFile -Path (Join-Path $Work 'stop.json') -Records $records
        $shell = [powershell]::Create()
        try {
            $null = $shell.AddScript({
                    param($ModulePath, $File)
                    Import-Module $ModulePath
                    Import-RequestFile $File | Invoke-BatchRequest -ThrottleLimit 20
                }).AddArgument((Get-BuiltModulePath)).AddArgument($file)
            $running = $shell.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while ((Get-TestServerStats $Server).served -lt 20 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }

            $clock = [Diagnostics.Stopwatch]::StartNew()
            $shell.Stop()
            $clock.Stop()

            $clock.Elapsed.TotalSeconds | Should -BeLessThan 2
            $running.IsCompleted | Should -BeTrue
            $servedAtStop = (Get-TestServerStats $Server).served
            $servedAtStop | Should -Be 20
            Start-Sleep -Milliseconds 300
            (Get-TestServerStats $Server).served | Should -Be $servedAtStop
        }
        finally {
            $shell.Dispose()
        }
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $script:Server = Start-TestServer
    $script:Base = $Server.BaseUri
    $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "batchrequest-$([guid]::NewGuid())")).FullName

    function Get-JournalState {
        <# Ids the journal shows succeeded, and ids it shows sent with no outcome (in flight at a kill). #>
        param([Parameter(Mandatory)] [string] $Path)
        $succeeded = [Collections.Generic.HashSet[string]]::new()
        $open = [Collections.Generic.HashSet[string]]::new()
        foreach ($entry in Import-BatchJournal -LiteralPath $Path) {
            if ($entry.Event -eq 'Sending') { $null = $open.Add($entry.Id) }
            elseif ($entry.Event -eq 'Result') {
                $null = $open.Remove($entry.Id)
                if ($entry.Status -eq 'Succeeded') { $null = $succeeded.Add($entry.Id) }
            }
        }
        [pscustomobject]@{ Succeeded = $succeeded; InFlight = $open }
    }

    function Get-ArrivalsById {
        $arrivals = @{}
        foreach ($arrival in Get-TestServerLedger $Server) {
            if (-not $arrivals.ContainsKey($arrival.id)) { $arrivals[$arrival.id] = [Collections.Generic.List[object]]::new() }
            $arrivals[$arrival.id].Add($arrival)
        }
        $arrivals
    }
}

AfterAll {
    Stop-TestServer $Server
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'Invoke-BatchRequest -JournalPath' {
    BeforeEach {
        Reset-TestServer $Server
    }

    It 'journals a sending mark and an outcome per record, with camelCase keys, never a body, header value or query value' {
        $records = @(
            @{ id = 'j1'; method = 'POST'; uri = "$($Base)delay/1?id=j1&token=s3cr3t"; headers = @{ Authorization = 'Bearer s3cr3t' }; body = @{ card = 's3cr3t' } }
            @{ id = 'j2'; uri = "$($Base)status/404?id=j2" }
        )
        $file = New-RequestFile -Path (Join-Path $Work 'shape.json') -Records $records
        $journal = Join-Path $Work 'shape.ndjson'

        $null = Import-RequestFile $file |
            Invoke-BatchRequest -JournalPath $journal -IdempotencyKeyHeader Idempotency-Key -AllowUnencryptedAuthentication -ErrorAction SilentlyContinue

        $text = Get-Content -LiteralPath $journal -Raw
        $text | Should -Not -Match 's3cr3t'
        $lines = @(Get-Content -LiteralPath $journal | ConvertFrom-Json)
        $lines.Count | Should -Be 5
        $lines[0].event | Should -Be 'run'
        $lines[0].batchId | Should -Match '^[0-9a-f]{32}$'
        $result = $lines | Where-Object { $_.event -eq 'result' -and $_.id -eq 'j2' }
        $result.status | Should -Be 'Failed'
        $result.statusCode | Should -Be 404
        $result.attempts | Should -Be 1
        $result.fingerprint | Should -Match '^[0-9a-f]{64}$'
        $result.uri | Should -Be "$($Base)status/404?id=***"
        $sent = $lines | Where-Object { $_.event -eq 'sending' -and $_.id -eq 'j1' }
        $sent.idempotencyKey | Should -Be (Get-TestServerLedger $Server | Where-Object id -EQ 'j1').idempotencyKey

        $entries = Import-BatchJournal $journal
        $entries.Count | Should -Be 5
        ($entries | Where-Object { $_.Event -eq 'Result' -and $_.Id -eq 'j1' }).Status | Should -Be 'Succeeded'
    }

    It 'reads a journal back in lines that Export-Csv and ConvertTo-Json write as they read: names and milliseconds' {
        $records = @(
            @{ id = 'jr1'; uri = "$($Base)flaky/1/503?id=jr1-$([guid]::NewGuid())" }
            @{ id = 'jr2'; uri = "$($Base)status/404?id=jr2" }
        )
        $file = New-RequestFile -Path (Join-Path $Work 'lines.json') -Records $records
        $journal = Join-Path $Work 'lines.ndjson'
        $null = Import-RequestFile $file |
            Invoke-BatchRequest -JournalPath $journal -RetryIntervalSec 0.05 -ErrorAction SilentlyContinue

        $lines = @(Import-BatchJournal $journal)

        $json = $lines | ConvertTo-Json | ConvertFrom-Json
        $retried = $json | Where-Object { $_.Event -eq 'Result' -and $_.Id -eq 'jr1' }
        $retried.Status | Should -Be 'Succeeded'
        $retried.ErrorKind | Should -Be 'None'
        $retried.Attempts | Should -Be 2
        $retried.DurationMs | Should -BeOfType [double]
        $retried.DurationMs | Should -BeGreaterThan 0
        $failed = $json | Where-Object { $_.Event -eq 'Result' -and $_.Id -eq 'jr2' }
        ($failed.Status, $failed.ErrorKind, $failed.StatusCode) | Should -Be @('Failed', 'HttpStatus', 404)
        $retry = @($json | Where-Object Event -EQ 'Retry')
        $retry.Count | Should -Be 1
        $retry[0].DelayMs | Should -BeGreaterThan 0
        $json.Event | Sort-Object -Unique | Should -Be @('Result', 'Retry', 'Run', 'Sending')

        $csv = Join-Path $Work 'lines.csv'
        $lines | Export-Csv -LiteralPath $csv
        Get-Content -LiteralPath $csv -Raw | Should -Not -Match 'System\.|BatchRequest\.|Ticks'
        $rows = @(Import-Csv -LiteralPath $csv)
        $rows.Count | Should -Be $lines.Count
        [double]::Parse(($rows | Where-Object { $_.Event -eq 'Result' -and $_.Id -eq 'jr1' }).DurationMs, [cultureinfo]::InvariantCulture) |
            Should -BeGreaterThan 0

        # The table's headers are property names, and all of them fit an 80-column console.
        $table = ($lines | Format-Table | Out-String -Width 80) -split "`n" | Where-Object { $_ -match '\S' } | Select-Object -First 1
        ($table -split '\s+' | Where-Object { $_ }) | Should -Be @('Line', 'Time', 'Event', 'Id', 'Status', 'StatusCode', 'DurationMs')
    }

    It 'refuses <Name> with a stable error id' -TestCases @(
        @{ Name = 'an existing journal without -Resume'; Resume = $false; ErrorId = 'JournalExists' }
        @{ Name = '-Resume without -JournalPath'; Resume = $true; ErrorId = 'ResumeRequiresJournal' }
    ) {
        param($Resume, $ErrorId)
        $file = New-RequestFile -Path (Join-Path $Work 'refuse.json') -Records @(@{ id = 'r1'; uri = "$($Base)delay/1?id=r1" })
        $journal = Join-Path $Work 'refuse.ndjson'
        Set-Content -LiteralPath $journal -Value '{"event":"run","time":"2025-01-01T00:00:00Z","batchId":"b1"}'
        $parameters = if ($Resume) { @{ Resume = $true } } else { @{ JournalPath = $journal } }

        { Import-RequestFile $file | Invoke-BatchRequest @parameters } | Should -Throw -ErrorId "$ErrorId,BatchRequest.Commands.InvokeBatchRequestCommand"
        (Get-TestServerStats $Server).served | Should -Be 0
    }

    It 'refuses -<Parameter> naming the request file being read with <ErrorId>, before anything is sent or written' -TestCases @(
        @{ Parameter = 'JournalPath'; ErrorId = 'JournalExists' }
        @{ Parameter = 'FailedPath'; ErrorId = 'FailedPathIsRequestFile' }
    ) {
        param($Parameter, $ErrorId)
        $file = New-RequestFile -Path (Join-Path $Work "self-$Parameter.json") -Records @(
            @{ id = 's1'; uri = "$($Base)status/500?id=s1" }
            @{ id = 's2'; uri = "$($Base)status/500?id=s2" }
        )
        $before = Get-Content -LiteralPath $file -Raw
        $parameters = @{ $Parameter = $file }

        { Import-RequestFile $file | Invoke-BatchRequest @parameters } | Should -Throw -ErrorId "$ErrorId,BatchRequest.Commands.InvokeBatchRequestCommand"

        (Get-TestServerStats $Server).served | Should -Be 0
        Get-Content -LiteralPath $file -Raw | Should -BeExactly $before
    }

    It 'touches neither file under -WhatIf' {
        $file = New-RequestFile -Path (Join-Path $Work 'whatif.json') -Records @(@{ id = 'w1'; uri = "$($Base)status/500?id=w1" })
        $journal = Join-Path $Work 'whatif.ndjson'
        $failed = Join-Path $Work 'whatif-failed.ndjson'

        $null = Import-RequestFile $file | Invoke-BatchRequest -JournalPath $journal -FailedPath $failed -WhatIf

        $journal | Should -Not -Exist
        $failed | Should -Not -Exist
    }
}

Describe 'Invoke-BatchRequest -Resume' {
    BeforeEach {
        Reset-TestServer $Server
    }

    It 'after a kill with idempotency keys, finishes the batch and resends only records in flight at the kill, with the same key' {
        $killed = Invoke-KilledBatch -Server $Server -Folder $Work -Name 'k' -Keyed
        $before = Get-JournalState $killed.Journal
        $before.Succeeded.Count | Should -BeLessThan 2000
        $before.InFlight.Count | Should -BeGreaterThan 0
        $before.InFlight.Count | Should -BeLessOrEqual 40

        $results = Import-RequestFile $killed.File |
            Invoke-BatchRequest -ThrottleLimit 40 -JournalPath $killed.Journal -Resume -IdempotencyKeyHeader Idempotency-Key

        $results.Count | Should -Be 2000
        @($results.Id | Sort-Object -Unique).Count | Should -Be 2000
        $skipped = @($results | Where-Object Status -EQ 'Skipped')
        $skipped.Count | Should -Be $before.Succeeded.Count
        $skipped | ForEach-Object { $before.Succeeded.Contains($_.Id) | Should -BeTrue }
        @($results | Where-Object Status -NotIn 'Succeeded', 'Skipped').Count | Should -Be 0

        $arrivals = Get-ArrivalsById
        $arrivals.Count | Should -Be 2000
        foreach ($id in $before.Succeeded) { $arrivals[$id].Count | Should -Be 1 -Because "$id succeeded before the kill" }
        $twice = @($arrivals.Keys | Where-Object { $arrivals[$_].Count -gt 1 })
        foreach ($id in $twice) {
            $before.InFlight.Contains($id) | Should -BeTrue -Because "$id arrived twice"
            $arrivals[$id].Count | Should -Be 2
            @($arrivals[$id].idempotencyKey | Sort-Object -Unique).Count | Should -Be 1
            $arrivals[$id][0].idempotencyKey | Should -Not -BeNullOrEmpty
        }
    }

    It 'after a kill without idempotency keys, reports POSTs in flight at the kill as OutcomeUnknown and does not resend them' {
        $killed = Invoke-KilledBatch -Server $Server -Folder $Work -Name 'u'
        $before = Get-JournalState $killed.Journal
        $before.InFlight.Count | Should -BeGreaterThan 0

        $results = Import-RequestFile $killed.File |
            Invoke-BatchRequest -ThrottleLimit 40 -JournalPath $killed.Journal -Resume -ErrorVariable failures -ErrorAction SilentlyContinue

        $results.Count | Should -Be 2000
        $unknown = @($results | Where-Object Status -EQ 'OutcomeUnknown')
        @($unknown.Id | Sort-Object) | Should -Be @($before.InFlight | Sort-Object)
        $unknown | ForEach-Object { $_.Attempts | Should -Be 0 }
        @($results | Where-Object Status -NotIn 'Succeeded', 'Skipped', 'OutcomeUnknown').Count | Should -Be 0
        $failures.Count | Should -Be $unknown.Count
        $failures.FullyQualifiedErrorId | Sort-Object -Unique | Should -Be 'RequestOutcomeUnknown,BatchRequest.Commands.InvokeBatchRequestCommand'

        $arrivals = Get-ArrivalsById
        @($arrivals.Keys | Where-Object { $arrivals[$_].Count -gt 1 }).Count | Should -Be 0
        $arrivals.Count | Should -Be (2000 - @($before.InFlight | Where-Object { -not $arrivals.ContainsKey($_) }).Count)
    }

    It 'does not resend a POST whose outcome is unknown when the rerun adds a key the first send did not carry' {
        $file = New-RequestFile -Path (Join-Path $Work 'late-key.json') -Records @(@{ id = 'k1'; method = 'POST'; uri = "$($Base)delay/3000?id=k1"; body = '{}' })
        $journal = Join-Path $Work 'late-key.ndjson'
        $first = Import-RequestFile $file | Invoke-BatchRequest -JournalPath $journal -ConnectionTimeoutSeconds 0.3 -ErrorAction SilentlyContinue
        $first.Status | Should -Be 'OutcomeUnknown'

        $rerun = Import-RequestFile $file |
            Invoke-BatchRequest -JournalPath $journal -Resume -IdempotencyKeyHeader Idempotency-Key -ErrorAction SilentlyContinue

        $rerun.Status | Should -Be 'OutcomeUnknown'
        $rerun.Attempts | Should -Be 0
        @(Get-TestServerLedger $Server | Where-Object id -EQ 'k1').Count | Should -Be 1
    }

    It 'journals the result of every record it emits, also those it decides without sending, and the next rerun decides the same' {
        $file = New-RequestFile -Path (Join-Path $Work 'every-result.json') -Records @(
            @{ id = 'e1'; uri = "$($Base)delay/1?id=e1" }
            @{ id = 'e2'; method = 'POST'; uri = "$($Base)delay/3000?id=e2"; body = '{}' }
        )
        $journal = Join-Path $Work 'every-result.ndjson'
        $first = Import-RequestFile $file | Invoke-BatchRequest -JournalPath $journal -ConnectionTimeoutSeconds 0.3 -ErrorAction SilentlyContinue
        ($first | Sort-Object Id).Status | Should -Be 'Succeeded', 'OutcomeUnknown'

        $reruns = foreach ($rerun in 1..2) {
            , @(Import-RequestFile $file | Invoke-BatchRequest -JournalPath $journal -Resume -ErrorAction SilentlyContinue | Sort-Object Id)
        }

        foreach ($results in $reruns) {
            $results.Status | Should -Be 'Skipped', 'OutcomeUnknown'
            $results.Attempts | Should -Be 0, 0
        }

        # The README's "outcomes of every run": one result line per record and run, in the run that emitted it.
        $run = 0
        $byRun = foreach ($entry in Import-BatchJournal $journal) {
            if ($entry.Event -eq 'Run') { $run++ }
            elseif ($entry.Event -eq 'Result') { [pscustomobject]@{ Run = $run; Id = $entry.Id; Status = "$($entry.Status)" } }
        }
        @($byRun | Sort-Object Run, Id | ForEach-Object { "$($_.Run) $($_.Id) $($_.Status)" }) |
            Should -Be '1 e1 Succeeded', '1 e2 OutcomeUnknown', '2 e1 Skipped', '2 e2 OutcomeUnknown', '3 e1 Skipped', '3 e2 OutcomeUnknown'
        @(Get-TestServerLedger $Server | Where-Object id -EQ 'e2').Count | Should -Be 1
    }

    It 'resumes from a journal whose last line a kill tore, resending the record it left in flight' {
        $records = foreach ($i in 1..6) { @{ id = "t$i"; uri = "$($Base)delay/1?id=t$i" } }
        $file = New-RequestFile -Path (Join-Path $Work 'torn.json') -Records $records
        $journal = Join-Path $Work 'torn.ndjson'
        $null = Import-RequestFile $file | Invoke-BatchRequest -ThrottleLimit 1 -JournalPath $journal
        $lines = @(Get-Content -LiteralPath $journal)
        $last = $lines[-1] | ConvertFrom-Json
        # The kill came while the last outcome was being written: half a line, no line break.
        $torn = ($lines[0..($lines.Count - 2)] -join "`n") + "`n" + $lines[-1].Substring(0, 30)
        [IO.File]::WriteAllText($journal, $torn)

        $entries = Import-BatchJournal $journal -WarningVariable warnings -WarningAction SilentlyContinue
        $entries.Count | Should -Be ($lines.Count - 1)
        $warnings.Count | Should -Be 1

        Reset-TestServer $Server
        $results = Import-RequestFile $file | Invoke-BatchRequest -JournalPath $journal -Resume -InformationVariable info

        @($results | Where-Object Status -EQ 'Skipped').Count | Should -Be 5
        ($results | Where-Object Status -EQ 'Succeeded').Id | Should -Be $last.id
        $summary = ($info | Where-Object Tags -Contains 'BatchSummary').MessageData
        ($summary.Total, $summary.Skipped, $summary.Succeeded) | Should -Be @(6, 5, 1)
        (Get-TestServerLedger $Server).id | Should -Be $last.id
        $null = Import-BatchJournal $journal -WarningVariable after -WarningAction SilentlyContinue
        $after.Count | Should -Be 0
    }

    It 'reports records that changed since the journal instead of skipping them silently' {
        $v1 = foreach ($i in 1..3) { @{ id = "c$i"; method = 'POST'; uri = "$($Base)delay/1?id=c$i"; body = @{ qty = $i } } }
        $journal = Join-Path $Work 'changed.ndjson'
        $null = Import-RequestFile (New-RequestFile -Path (Join-Path $Work 'changed-v1.json') -Records $v1) | Invoke-BatchRequest -JournalPath $journal
        $v2 = foreach ($i in 1..3) { @{ id = "c$i"; method = 'POST'; uri = "$($Base)delay/1?id=c$i"; body = @{ qty = if ($i -eq 2) { 20 } else { $i } } } }
        $file = New-RequestFile -Path (Join-Path $Work 'changed-v2.json') -Records $v2
        Reset-TestServer $Server

        $results = Import-RequestFile $file | Invoke-BatchRequest -JournalPath $journal -Resume -ErrorVariable failures -ErrorAction SilentlyContinue

        $results.Status | Sort-Object -Unique | Should -Be 'Skipped'
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'RecordChangedSinceJournal,BatchRequest.Commands.InvokeBatchRequestCommand'
        $failures[0].TargetObject.Id | Should -Be 'c2'
        ($results | Where-Object Id -EQ 'c2').Error | Should -Not -BeNullOrEmpty
        (Get-TestServerStats $Server).served | Should -Be 0
    }
}

Describe 'Invoke-BatchRequest -FailedPath' {
    BeforeEach {
        Reset-TestServer $Server
    }

    It 'writes every record that did not succeed as one request object per line' {
        $records = @(
            @{ id = 'ok1'; uri = "$($Base)delay/1?id=ok1" }
            @{ id = 'f1'; method = 'POST'; uri = "$($Base)status/422?id=f1"; headers = @{ 'X-Trace' = 'a' }; body = @{ sku = 'A-17' } }
            @{ id = 'f2'; uri = "$($Base)status/404?id=f2" }
        )
        $file = New-RequestFile -Path (Join-Path $Work 'failed-shape.json') -Records $records
        $failed = Join-Path $Work 'failed-shape.ndjson'

        $null = Import-RequestFile $file | Invoke-BatchRequest -FailedPath $failed -IdempotencyKeyHeader Idempotency-Key -ErrorAction SilentlyContinue

        $lines = @(Get-Content -LiteralPath $failed | ConvertFrom-Json)
        ($lines.id | Sort-Object) | Should -Be @('f1', 'f2')
        $f1 = $lines | Where-Object id -EQ 'f1'
        $f1.method | Should -Be 'POST'
        $f1.uri | Should -Be "$($Base)status/422?id=f1"
        $f1.headers.'X-Trace' | Should -Be 'a'
        ($f1.body | ConvertFrom-Json).sku | Should -Be 'A-17'
        $f1.contentType | Should -Be 'application/json'
        $f1.idempotencyKey | Should -Be (Get-TestServerLedger $Server | Where-Object id -EQ 'f1').idempotencyKey
    }

    It 'writes no file when every record succeeds' {
        $file = New-RequestFile -Path (Join-Path $Work 'all-ok.json') -Records @(@{ id = 'a1'; uri = "$($Base)delay/1?id=a1" })
        $failed = Join-Path $Work 'all-ok-failed.ndjson'

        $null = Import-RequestFile $file | Invoke-BatchRequest -FailedPath $failed

        $failed | Should -Not -Exist
    }

    It 'is read by Import-RequestFile unchanged, and resending it finishes exactly the failed records' {
        $records = @(
            foreach ($i in 1..4) { @{ id = "ok$i"; uri = "$($Base)delay/1?id=ok$i" } }
            foreach ($i in 1..3) { @{ id = "re$i"; method = 'POST'; uri = "$($Base)flaky/1/404?id=re$i"; body = @{ n = $i } } }
        )
        $file = New-RequestFile -Path (Join-Path $Work 'retry.json') -Records $records
        $failed = Join-Path $Work 'retry-failed.ndjson'
        $null = Import-RequestFile $file | Invoke-BatchRequest -FailedPath $failed -IdempotencyKeyHeader Idempotency-Key -ErrorAction SilentlyContinue
        $firstRun = @(Get-TestServerLedger $Server)
        $firstKeys = @{}
        $firstRun | ForEach-Object { $firstKeys[$_.id] = $_.idempotencyKey }

        # No reset: the flaky endpoint answers 404 to the first request of each id only.
        $results = Import-RequestFile $failed | Invoke-BatchRequest -IdempotencyKeyHeader Idempotency-Key

        ($results.Id | Sort-Object) | Should -Be @('re1', 're2', 're3')
        $results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
        $ledger = @(Get-TestServerLedger $Server | Select-Object -Skip $firstRun.Count)
        ($ledger.id | Sort-Object) | Should -Be @('re1', 're2', 're3')
        $ledger | ForEach-Object { $_.idempotencyKey | Should -Be $firstKeys[$_.id] }
    }
}

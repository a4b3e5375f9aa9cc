BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $script:Server = Start-TestServer
    $script:Base = $Server.BaseUri
    $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "batchrequest-$([guid]::NewGuid())")).FullName

    # The batch's settings, which the expected outcomes below follow: 3 attempts, 64 KiB answers, 1 s for an answer's
    # headers and 0.5 s between two reads of its body.
    $script:Settings = @{
        ThrottleLimit             = 40
        MaximumRetryCount         = 2
        RetryIntervalSec          = 0.01
        ConnectionTimeoutSeconds  = 1
        OperationTimeoutSeconds   = 0.5
        MaximumResponseBytes      = 65536
        NoCircuitBreaker          = $true
    }

    # Every fault class of the test server, with its weight in the mix and how a GET and a POST without a key end
    # (status, error kind, attempts, status code). A POST is never resent after a failure the server may have seen.
    $script:FaultClasses = @(
        @{ Name = 'ok'; Weight = 33; Path = { "delay/$($args[0].Next(0, 4))" }
            Get = 'Succeeded', 'None', 1, 200; Post = 'Succeeded', 'None', 1, 200 }
        @{ Name = 'flaky 503'; Weight = 10; Path = { 'flaky/1/503' }
            Get = 'Succeeded', 'None', 2, 200; Post = 'Failed', 'HttpStatus', 1, 503 }
        @{ Name = 'flaky 429'; Weight = 10; Path = { 'flaky/1/429' }
            Get = 'Succeeded', 'None', 2, 200; Post = 'Succeeded', 'None', 2, 200 }
        @{ Name = '404'; Weight = 10; Path = { 'status/404' }
            Get = 'Failed', 'HttpStatus', 1, 404; Post = 'Failed', 'HttpStatus', 1, 404 }
        @{ Name = '500'; Weight = 8; Path = { 'status/500' }
            Get = 'Failed', 'HttpStatus', 3, 500; Post = 'Failed', 'HttpStatus', 1, 500 }
        @{ Name = 'reset'; Weight = 8; Path = { 'reset' }
            Get = 'Failed', 'ConnectionReset', 3, $null; Post = 'OutcomeUnknown', 'ConnectionReset', 1, $null }
        @{ Name = 'closed without an answer'; Weight = 5; Silent = $true; Path = { 'close' }
            Get = 'Failed', 'ConnectionReset', 3, $null; Post = 'OutcomeUnknown', 'ConnectionReset', 1, $null }
        @{ Name = 'too large'; Weight = 5; Path = { 'bytes/70000' }
            Get = 'Failed', 'ResponseTooLarge', 1, 200; Post = 'OutcomeUnknown', 'ResponseTooLarge', 1, 200 }
        @{ Name = 'no answer'; Weight = 2; Path = { 'never' }
            Get = 'Failed', 'Timeout', 3, $null; Post = 'OutcomeUnknown', 'Timeout', 1, $null }
        @{ Name = 'body stalled'; Weight = 3; Path = { 'stall-body/100' }
            Get = 'Failed', 'Timeout', 3, $null; Post = 'OutcomeUnknown', 'Timeout', 1, $null }
        @{ Name = 'closed at once'; Weight = 3; Path = { 'close-now' }
            Get = 'Failed', 'ConnectionReset', 3, $null; Post = 'OutcomeUnknown', 'ConnectionReset', 1, $null }
        @{ Name = 'over capacity'; Weight = 3; Path = { 'capped/0/10' }
            Get = 'Failed', 'HttpStatus', 3, 503; Post = 'Failed', 'HttpStatus', 1, 503 }
    )

    function New-ChaosBatch {
        <# Count records, GET and POST, each of a fault class drawn from the seeded mix; returns the file and the expectations. #>
        param([int] $Seed, [int] $Count, [string] $Prefix)
        $random = [Random]::new($Seed)
        $total = ($FaultClasses | Measure-Object -Property Weight -Sum).Sum
        $expected = @{}
        $records = foreach ($i in 1..$Count) {
            $draw = $random.Next(0, $total)
            $class = foreach ($candidate in $FaultClasses) {
                if ($draw -lt $candidate.Weight) { $candidate; break }
                $draw -= $candidate.Weight
            }
            $method = if ($random.Next(0, 2) -eq 0) { 'GET' } else { 'POST' }
            $id = "$Prefix-$i"
            $origin = if ($class.Silent) { $Server.SilentCloseBaseUri } else { $Base }
            $outcome = if ($method -eq 'GET') { $class.Get } else { $class.Post }
            $expected[$id] = [pscustomobject]@{
                Class = $class.Name; Method = $method
                Status = $outcome[0]; ErrorKind = $outcome[1]; Attempts = $outcome[2]; StatusCode = $outcome[3]
            }
            $record = @{ id = $id; method = $method; uri = "$origin$(& $class.Path $random)?id=$id" }
            if ($method -eq 'POST') { $record.body = @{ n = $i } }
            $record
        }
        [pscustomobject]@{
            File     = New-RequestFile -Path (Join-Path $Work "$Prefix.json") -Records $records
            Ids      = @($records.id)
            Expected = $expected
        }
    }
}

AfterAll {
    Stop-TestServer $Server
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'Invoke-BatchRequest under a seeded mix of every fault' {
    BeforeEach {
        Reset-TestServer $Server
    }

    # In input order a record that waits out its timeouts holds back the 4·T after it: half as many records there.
    It 'gives <Count> records (seed <Seed>) one result each, as their fault class decides, <Emitted>, with a journal that agrees' -TestCases @(
        @{ Seed = 20261202; Count = 2000; Emitted = 'in completion order'; Ordered = $false }
        @{ Seed = 7; Count = 1000; Emitted = 'in input order (-Ordered)'; Ordered = $true }
    ) {
        param($Seed, $Count, $Ordered)
        $batch = New-ChaosBatch -Seed $Seed -Count $Count -Prefix "chaos$Seed"
        $journal = Join-Path $Work "chaos$Seed.journal.ndjson"

        $results = @(Import-RequestFile $batch.File |
                Invoke-BatchRequest @Settings -Ordered:$Ordered -JournalPath $journal -ErrorAction SilentlyContinue)

        # One result per record, in input order when asked.
        $results.Count | Should -Be $Count
        @($results.Id | Sort-Object -Unique).Count | Should -Be $Count
        if ($Ordered) { ($results.Id -join ' ') | Should -BeExactly ($batch.Ids -join ' ') }

        # Each outcome as its fault class decides, and the server saw exactly the attempts the result counts.
        $arrivals = @{}
        foreach ($arrival in Get-TestServerLedger $Server) { $arrivals[$arrival.id] = 1 + $arrivals[$arrival.id] }
        $wrong = foreach ($result in $results) {
            $want = $batch.Expected[$result.Id]
            $got = "$($result.Status) $($result.ErrorKind) $($result.Attempts) $($result.StatusCode) arrived $([int]$arrivals[$result.Id])"
            $expected = "$($want.Status) $($want.ErrorKind) $($want.Attempts) $($want.StatusCode) arrived $($want.Attempts)"
            if ($got -ne $expected) { "$($result.Id) ($($want.Method) $($want.Class)): $got, expected $expected" }
        }
        $wrong | Should -BeNullOrEmpty -Because "seed $Seed"

        # The journal: one sending mark and one result line per record, agreeing with the result.
        $entries = @(Import-BatchJournal -LiteralPath $journal)
        @($entries | Where-Object Event -EQ Sending).Count | Should -Be $Count
        $lines = @{}
        foreach ($entry in $entries | Where-Object Event -EQ Result) { $lines[$entry.Id] = $entry }
        $lines.Count | Should -Be $Count
        $disagreeing = foreach ($result in $results) {
            $line = $lines[$result.Id]
            if ("$($line.Status) $($line.Attempts) $($line.StatusCode)" -ne "$($result.Status) $($result.Attempts) $($result.StatusCode)") {
                "$($result.Id): journal $($line.Status) $($line.Attempts) $($line.StatusCode), result $($result.Status) $($result.Attempts) $($result.StatusCode)"
            }
        }
        $disagreeing | Should -BeNullOrEmpty
    }
}

# Overload is not a dead host: a server that turns requests away (503, 429) or drops them while alive is slowed down
# for, never written off; only a host with no answer at all opens its circuit. Every result's Attempts is the number
# of requests that arrived for that record, whatever the server did to the connection.
BeforeDiscovery {
    # Every attempt of these fails without an answer and may be retried, so each record makes 1 + Retries attempts.
    # At most 5 records x 3 attempts per batch: fewer than the circuit's default threshold of 20.
    $script:AttemptCases = @(
        @{ Method = 'GET'; Retries = 0; With = @{}; Via = '' }
        @{ Method = 'GET'; Retries = 2; With = @{}; Via = '' }
        @{ Method = 'POST'; Retries = 0; With = @{}; Via = '' }
        @{ Method = 'POST'; Retries = 2; With = @{ RetryNonIdempotent = $true }; Via = ' under -RetryNonIdempotent' }
        @{ Method = 'POST'; Retries = 2; With = @{ IdempotencyKeyHeader = 'Idempotency-Key' }; Via = ' under -IdempotencyKeyHeader' }
    )
    # The same cases at the raw listener that closes gracefully (what makes .NET resend by itself) and at the
    # Kestrel route that resets the connection.
    $script:ServerAttemptCases = foreach ($closer in @{ Closer = 'a listener that closes gracefully'; Prefix = 'g' }, @{ Closer = 'a route that resets the connection'; Prefix = 'r' }) {
        foreach ($case in $AttemptCases) { $case + $closer }
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $script:Server = Start-TestServer
    $script:Base = $Server.BaseUri
    $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "batchrequest-$([guid]::NewGuid())")).FullName

    function Invoke-TestBatch {
        <#
        Sends the records with the given parameters of Invoke-BatchRequest, verbose on and errors silenced, and returns
        Results, Summary (the last BatchSummary record's data), Verbose (the messages) and Elapsed.
        #>
        param(
            [Parameter(Mandatory)] [object[]] $Records,
            [hashtable] $With = @{}
        )
        $file = New-RequestFile -Path (Join-Path $Work "batch-$([guid]::NewGuid().ToString('N')).json") -Records $Records
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $output = Import-RequestFile $file |
            Invoke-BatchRequest @With -InformationVariable info -ErrorAction SilentlyContinue -Verbose 4>&1
        $clock.Stop()
        [pscustomobject]@{
            Results = @($output | Where-Object { $_ -isnot [Management.Automation.VerboseRecord] })
            Summary = $info | Where-Object Tags -Contains 'BatchSummary' | Select-Object -Last 1 -ExpandProperty MessageData
            Verbose = @($output | Where-Object { $_ -is [Management.Automation.VerboseRecord] } | ForEach-Object Message)
            Elapsed = $clock.Elapsed
        }
    }

    function New-TestRecord {
        <# Count records for Uri (which gets ?id=), ids Prefix1..PrefixN; a POST carries a small JSON body. #>
        param(
            [Parameter(Mandatory)] [string] $Uri,
            [Parameter(Mandatory)] [string] $Prefix,
            [Parameter(Mandatory)] [int] $Count,
            [string] $Method = 'GET'
        )
        foreach ($i in 1..$Count) {
            $record = @{ id = "$Prefix$i"; method = $Method; uri = "$($Uri)?id=$Prefix$i" }
            if ($Method -eq 'POST') { $record.body = @{ item = $i; note = 'small' } }
            $record
        }
    }

    function Get-LedgerCount {
        <# Arrivals per id in the test server's ledger since the last reset. #>
        $counts = @{}
        foreach ($arrival in Get-TestServerLedger $Server) {
            if ($arrival.id) { $counts[$arrival.id] = 1 + [int]$counts[$arrival.id] }
        }
        $counts
    }

    function Get-VerboseLimitChange {
        <# The verbose messages that announce a new adaptive concurrency limit. #>
        param([string[]] $Message)
        @($Message | Where-Object { $_ -match 'concurrency limit' })
    }
}

AfterAll {
    if ($Server) { Stop-TestServer $Server }
    if ($Work) { Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore }
}

Describe 'Invoke-BatchRequest against an overloaded loopback server' {
    BeforeEach {
        Reset-TestServer $Server
    }

    It 'sends every record and never opens the circuit on 503 with a fixed throttle 4x the server cap' {
        $records = New-TestRecord -Uri "$($Base)capped/4/100" -Prefix 'a' -Count 80

        $batch = Invoke-TestBatch $records @{ ThrottleLimit = 16; RetryIntervalSec = 0.05 }

        $batch.Results.Count | Should -Be 80
        @($batch.Results | Where-Object Status -EQ 'NotSent').Count | Should -Be 0
        @($batch.Results | Where-Object ErrorKind -EQ 'CircuitOpen').Count | Should -Be 0
        # The cap did turn requests away: the circuit had 503s to count.
        (Get-TestServerStats $Server).cappedRejected | Should -BeGreaterThan 20
    }

    It 'reports a fixed throttle as the concurrency limit, lowest and highest, and announces no change' {
        $records = New-TestRecord -Uri "$($Base)delay/10" -Prefix 'x' -Count 30

        $batch = Invoke-TestBatch $records @{ ThrottleLimit = 6 }

        $batch.Results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
        $batch.Summary.ConcurrencyLimit | Should -Be 6
        $batch.Summary.ConcurrencyLimitLowest | Should -Be 6
        $batch.Summary.ConcurrencyLimitHighest | Should -Be 6
        Get-VerboseLimitChange $batch.Verbose | Should -BeNullOrEmpty
    }

    It 'settles near the server cap under -AdaptiveThrottle with a ceiling 8x the cap, and every record succeeds' {
        $records = New-TestRecord -Uri "$($Base)capped/4/100" -Prefix 'b' -Count 150

        $batch = Invoke-TestBatch $records @{ AdaptiveThrottle = $true; ThrottleLimit = 32; MaximumRetryCount = 10; RetryIntervalSec = 0.05 }

        $batch.Results.Count | Should -Be 150
        $batch.Results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
        $stats = Get-TestServerStats $Server
        $stats.cappedServed | Should -Be 150
        $stats.cappedMaxInFlight | Should -BeLessOrEqual 4
        # A limit that probes one above the cap every few rounds of 4 and backs off at the first 503 is turned away
        # about once per probe: ~40 rounds, ~10-15 rejections, under 10% of the arrivals. 15% leaves room for a
        # probe that overshoots by two and for the start. The fixed ceiling of 32 would see ~28 of every 32 (87%).
        $share = $stats.cappedRejected / ($stats.cappedServed + $stats.cappedRejected)
        $share | Should -BeLessOrEqual 0.15
        $batch.Summary.ConcurrencyLimit | Should -BeGreaterOrEqual 2
        $batch.Summary.ConcurrencyLimit | Should -BeLessOrEqual 8
        $batch.Summary.ConcurrencyLimitHighest | Should -BeLessOrEqual 32
        # It moved at least once (grew on good answers or backed off on a 503), and said so.
        Get-VerboseLimitChange $batch.Verbose | Should -Not -BeNullOrEmpty
    }

    It 'grows to the ceiling of 16 under -AdaptiveThrottle while a healthy server answers well' {
        # 400 x 30 ms: slow start from 8 reaches 16 within two rounds; the rest is room for a back-off on a latency
        # blip of a busy machine.
        $records = New-TestRecord -Uri "$($Base)delay/30" -Prefix 'c' -Count 400

        $batch = Invoke-TestBatch $records @{ AdaptiveThrottle = $true; ThrottleLimit = 16 }

        $batch.Results.Count | Should -Be 400
        $batch.Results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
        $batch.Summary.ConcurrencyLimitHighest | Should -Be 16
        $batch.Summary.ConcurrencyLimitLowest | Should -BeLessOrEqual 8
        $batch.Summary.ConcurrencyLimitLowest | Should -BeGreaterOrEqual 1
        (Get-TestServerStats $Server).maxInFlight | Should -BeLessOrEqual 16
        $changes = Get-VerboseLimitChange $batch.Verbose
        $changes | Should -Not -BeNullOrEmpty
        @($changes | Where-Object { $_ -match '\b16\b' }).Count | Should -BeGreaterOrEqual 1
    }

    It 'starts -AdaptiveThrottle at <Start> in flight with a ceiling of <Ceiling>' -TestCases @(
        @{ Ceiling = 16; Start = 8 }
        @{ Ceiling = 2; Start = 2 }
    ) {
        param($Ceiling, $Start)
        # Nothing answers before 300 ms, so nothing can have grown the limit in the first 250 ms; there are more
        # records than the starting limit, so a higher one would show.
        $records = New-TestRecord -Uri "$($Base)delay/300" -Prefix 's' -Count 12

        $batch = Invoke-TestBatch $records @{ AdaptiveThrottle = $true; ThrottleLimit = $Ceiling }

        $batch.Results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
        $times = @((Get-TestServerLedger $Server).time | ForEach-Object { [DateTimeOffset]$_ } | Sort-Object)
        @($times | Where-Object { $_ -lt $times[0].AddMilliseconds(250) }).Count | Should -Be $Start
        $batch.Summary.ConcurrencyLimitLowest | Should -BeLessOrEqual $Start
        $batch.Summary.ConcurrencyLimitHighest | Should -BeLessOrEqual $Ceiling
    }

    It 'counts as Attempts exactly the <Method> requests that arrived at <Closer>, with <Retries> retries<Via>' -TestCases $ServerAttemptCases {
        param($Method, $Retries, $With, $Via, $Closer, $Prefix)
        $uri = if ($Prefix -eq 'g') { "$($Server.SilentCloseBaseUri)close" } else { "$($Base)reset" }
        $records = New-TestRecord -Uri $uri -Prefix $Prefix -Count 5 -Method $Method

        $batch = Invoke-TestBatch $records (@{ MaximumRetryCount = $Retries; RetryIntervalSec = 0.05 } + $With)

        $arrivals = Get-LedgerCount
        $batch.Results.Count | Should -Be 5
        foreach ($result in $batch.Results) {
            $result.StatusCode | Should -BeNullOrEmpty
            $result.Attempts | Should -Be (1 + $Retries)
            $arrivals[$result.Id] | Should -Be $result.Attempts -Because "the server saw $($arrivals[$result.Id]) requests for $($result.Id)"
        }
    }

    It 'meets a strict pacer without a 429 under -RequestsPerSecond' {
        # The pacer takes one request per 50 ms (less 2 ms) and has no burst; the batch asks for 16 a second, 62.5 ms
        # apart. Measured on a busy 2-core machine, even starts exactly 50 ms apart reach Kestrel's route with a few
        # ms of jitter and are turned away now and then; 80% of the rate leaves a margin above that jitter, while two
        # starts at once (a burst) are still turned away.
        $records = New-TestRecord -Uri "$($Base)paced/20" -Prefix 'e' -Count 30
        # The route's first call pays for compiling it: a late first arrival would bring the second one early.
        $null = Invoke-WebRequest -Uri "$($Base)paced/20?id=warm-up" -SkipHttpErrorCheck
        Reset-TestServer $Server

        $batch = Invoke-TestBatch $records @{ RequestsPerSecond = 16; ThrottleLimit = 8; MaximumRetryCount = 0 }

        $batch.Results.Count | Should -Be 30
        $batch.Results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
        $stats = Get-TestServerStats $Server
        $stats.pacedRejected | Should -Be 0
        $stats.pacedAccepted | Should -Be 30
    }

    It 'ends the records of a dead host fast under -AdaptiveThrottle while a healthy host beside it succeeds' {
        $dead = "http://127.0.0.1:$(Get-FreeLoopbackPort)/"
        $records = @(
            New-TestRecord -Uri "$($dead)nobody" -Prefix 'dead' -Count 30
            New-TestRecord -Uri "$($Base)delay/20" -Prefix 'live' -Count 40
        )

        $batch = Invoke-TestBatch $records @{ AdaptiveThrottle = $true; ThrottleLimit = 8; MaximumRetryCount = 2; RetryIntervalSec = 0.05 }

        $batch.Results.Count | Should -Be 70
        $deadResults = @($batch.Results | Where-Object Id -Like 'dead*')
        $deadResults.Count | Should -Be 30
        foreach ($result in $deadResults) {
            "$($result.Status)" | Should -BeIn 'Failed', 'NotSent'
            "$($result.ErrorKind)" | Should -BeIn 'ConnectFailed', 'CircuitOpen'
        }
        # Up to 90 attempts without an answer, past the threshold of 20: the circuit opened.
        @($deadResults | Where-Object ErrorKind -EQ 'CircuitOpen').Count | Should -BeGreaterThan 0
        $liveResults = @($batch.Results | Where-Object Id -Like 'live*')
        $liveResults.Count | Should -Be 40
        $liveResults.Status | Sort-Object -Unique | Should -Be 'Succeeded'
        # Not a speed test: it did not hang, nor wait out the 30 s break of the dead host's circuit.
        $batch.Elapsed.TotalSeconds | Should -BeLessThan 20
    }

    It 'opens the circuit of a dead host <When>' -TestCases @(
        @{ Threshold = 0; When = 'after the default 20 attempts without an answer' }
        @{ Threshold = 50; When = 'not before 50 attempts under -CircuitBreakerThreshold 50' }
    ) {
        param($Threshold, $When)
        $dead = "http://127.0.0.1:$(Get-FreeLoopbackPort)/"
        $records = New-TestRecord -Uri "$($dead)nobody" -Prefix 'h' -Count 30
        $with = @{ ThrottleLimit = 4; MaximumRetryCount = 0 }
        if ($Threshold) { $with.CircuitBreakerThreshold = $Threshold }

        $batch = Invoke-TestBatch $records $with

        $open = @($batch.Results | Where-Object ErrorKind -EQ 'CircuitOpen')
        if ($Threshold) {
            $open.Count | Should -Be 0
            $batch.Results.ErrorKind | Sort-Object -Unique | Should -Be 'ConnectFailed'
        }
        else {
            # At least the first 20 were tried; of 30, some were left to meet the open circuit.
            $open.Count | Should -BeGreaterThan 0
            $open.Count | Should -BeLessOrEqual 10
        }
    }

    It 'never opens the circuit of a dead host under -NoCircuitBreaker' {
        $dead = "http://127.0.0.1:$(Get-FreeLoopbackPort)/"
        $records = New-TestRecord -Uri "$($dead)nobody" -Prefix 'n' -Count 30

        # 90 attempts without an answer, well past the threshold of 20 that opens the circuit otherwise.
        $batch = Invoke-TestBatch $records @{ NoCircuitBreaker = $true; ThrottleLimit = 4; MaximumRetryCount = 2; RetryIntervalSec = 0.05 }

        $batch.Results.Count | Should -Be 30
        @($batch.Results | Where-Object ErrorKind -EQ 'CircuitOpen').Count | Should -Be 0
        $batch.Results.ErrorKind | Sort-Object -Unique | Should -Be 'ConnectFailed'
        $batch.Results.Status | Sort-Object -Unique | Should -Be 'Failed'
        $batch.Results.Attempts | Sort-Object -Unique | Should -Be 3
    }
}

Describe 'Invoke-BatchRequest behind nginx limits' {
    BeforeAll {
        $null = Install-TestTool -Command nginx -Package nginx
        $script:Nginx = Start-TestNginx -Upstream $Server.BaseUri -ConnectionLimit 4 -RatePerSecond 10
        $script:Front = $Nginx.BaseUri
    }

    AfterAll {
        if ($Nginx) { Stop-TestNginx $Nginx }
    }

    BeforeEach {
        Reset-TestServer $Server
        Clear-NginxAccessLog $Nginx
    }

    It 'sends every record and never opens the circuit on limit_conn 503 with a fixed throttle 4x the limit' {
        $records = New-TestRecord -Uri "$($Front)slow/200" -Prefix 'lc' -Count 40

        $batch = Invoke-TestBatch $records @{ ThrottleLimit = 16; RetryIntervalSec = 0.05 }

        $batch.Results.Count | Should -Be 40
        @($batch.Results | Where-Object Status -EQ 'NotSent').Count | Should -Be 0
        @($batch.Results | Where-Object ErrorKind -EQ 'CircuitOpen').Count | Should -Be 0
        @(Get-NginxAccessLog $Nginx -Expect 1 -Status 503 | Where-Object Status -EQ 503).Count | Should -BeGreaterThan 0
    }

    It 'succeeds with every record under limit_conn with -AdaptiveThrottle and a ceiling 8x the limit' {
        $records = New-TestRecord -Uri "$($Front)slow/200" -Prefix 'la' -Count 40

        $batch = Invoke-TestBatch $records @{ AdaptiveThrottle = $true; ThrottleLimit = 32; MaximumRetryCount = 10; RetryIntervalSec = 0.05 }

        $batch.Results.Count | Should -Be 40
        $batch.Results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
        @(Get-NginxAccessLog $Nginx -Expect 40 -Status 200 | Where-Object Status -EQ 200).Count | Should -Be 40
    }

    It 'meets limit_req without burst under -RequestsPerSecond, with no 429 in the access log' {
        # nginx takes one request per 100 ms by its millisecond clock and has no tolerance at all: starts exactly
        # 100 ms apart were measured to meet a 429 in most runs. The batch asks for 8 a second, 125 ms apart.
        $records = New-TestRecord -Uri "$($Front)paced" -Prefix 'lr' -Count 20

        $batch = Invoke-TestBatch $records @{ RequestsPerSecond = 8; ThrottleLimit = 8; MaximumRetryCount = 0 }

        $batch.Results.Count | Should -Be 20
        $batch.Results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
        $log = @(Get-NginxAccessLog $Nginx -Expect 20)
        @($log | Where-Object Status -EQ 429).Count | Should -Be 0
        @($log | Where-Object Status -EQ 200).Count | Should -Be 20
    }

    It 'counts as Attempts exactly the <Method> requests nginx closed with 444, with <Retries> retries<Via>' -TestCases $AttemptCases {
        param($Method, $Retries, $With, $Via)
        $records = New-TestRecord -Uri "$($Front)close" -Prefix 'cl' -Count 5 -Method $Method

        $batch = Invoke-TestBatch $records (@{ MaximumRetryCount = $Retries; RetryIntervalSec = 0.05 } + $With)

        $log = @(Get-NginxAccessLog $Nginx -Expect (5 * (1 + $Retries)))
        $log.Status | Sort-Object -Unique | Should -Be 444
        $batch.Results.Count | Should -Be 5
        foreach ($result in $batch.Results) {
            $arrived = @($log | Where-Object Id -EQ $result.Id).Count
            $result.StatusCode | Should -BeNullOrEmpty
            $result.Attempts | Should -Be (1 + $Retries)
            $arrived | Should -Be $result.Attempts -Because "nginx logged $arrived requests for $($result.Id)"
        }
    }
}

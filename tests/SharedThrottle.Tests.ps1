BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $script:Server = Start-TestServer
    $script:Base = $Server.BaseUri
    $script:Redis = Start-TestRedis
    $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "batchrequest-$([guid]::NewGuid())")).FullName

    function New-SharedFile([string] $Name, [int] $Count, [string] $Path) {
        $records = foreach ($i in 1..$Count) { @{ id = "$Name$i"; uri = "$Base$($Path)?id=$Name$i" } }
        New-RequestFile -Path (Join-Path $Work "$Name.json") -Records $records
    }

    function Start-SharedBatch {
        <# Starts a child pwsh that sends the file under the quota (tests/Send-SharedBatch.ps1); returns the process. #>
        param([string] $File, [string] $Quota, [int] $ThrottleLimit, [double] $RequestsPerSecond, [int] $MaximumRetryCount = 3, [string] $WarmUpUri, [switch] $Adaptive)
        $pwsh = @(Get-PwshCommand)
        $start = [Diagnostics.ProcessStartInfo]::new($pwsh[0])
        $arguments = @($pwsh | Select-Object -Skip 1) + @(
            '-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'Send-SharedBatch.ps1'),
            '-ModulePath', (Get-BuiltModulePath), '-RequestFile', $File, '-Quota', $Quota, '-ThrottleLimit', $ThrottleLimit,
            '-MaximumRetryCount', $MaximumRetryCount)
        if ($RequestsPerSecond) { $arguments += '-RequestsPerSecond', $RequestsPerSecond }
        if ($WarmUpUri) { $arguments += '-WarmUpUri', $WarmUpUri }
        if ($Adaptive) { $arguments += '-AdaptiveThrottle' }
        foreach ($argument in $arguments) { $start.ArgumentList.Add([string]$argument) }
        $start.UseShellExecute = $false
        $start.RedirectStandardOutput = $true
        $process = [Diagnostics.Process]::Start($start)
        [pscustomobject]@{ Process = $process; Output = $process.StandardOutput.ReadToEndAsync() }
    }

    function Wait-SharedBatch($Batch, [int] $TimeoutSec = 60) {
        if (-not $Batch.Process.WaitForExit($TimeoutSec * 1000)) {
            $Batch.Process.Kill()
            throw "A shared batch did not end within $TimeoutSec s."
        }
        $line = $Batch.Output.GetAwaiter().GetResult() -split "`n" | Where-Object { $_.StartsWith('{') } | Select-Object -Last 1
        $Batch.Process.Dispose()
        $line | ConvertFrom-Json
    }

    function Get-ArrivalTimes([string] $Prefix) {
        @(Get-TestServerLedger $Server | Where-Object { $_.id -like "$Prefix*" } | ForEach-Object { [DateTimeOffset]$_.time } | Sort-Object)
    }
}

AfterAll {
    Stop-TestRedis $Redis
    Stop-TestServer $Server
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'Invoke-BatchRequest -SharedThrottle' {
    BeforeEach {
        Reset-TestServer $Server
    }

    It 'holds -ThrottleLimit in flight for three processes together, and comes close to it' {
        $quota = "$($Redis.Address)/slots?leaseSec=3"
        $batches = foreach ($part in 'a', 'b', 'c') { Start-SharedBatch -File (New-SharedFile "slot$part" 30 'delay/100') -Quota $quota -ThrottleLimit 6 }
        $outcomes = foreach ($batch in $batches) { Wait-SharedBatch $batch }

        foreach ($outcome in $outcomes) {
            @($outcome.Results).Count | Should -Be 30
            $outcome.Results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
            $outcome.Summary.SharedQuota | Should -Be "redis://127.0.0.1:$($Redis.Port)/0/slots"
        }
        # Each process alone may hold all 6; without the shared quota the three would reach 18.
        $stats = Get-TestServerStats $Server
        $stats.served | Should -Be 90
        $stats.maxInFlight | Should -BeLessOrEqual 6
        $stats.maxInFlight | Should -BeGreaterOrEqual 5
    }

    It 'paces the starts of three processes together under -RequestsPerSecond' {
        $quota = "$($Redis.Address)/rate"
        $rate = 10
        $batches = foreach ($part in 'a', 'b', 'c') {
            Start-SharedBatch -File (New-SharedFile "rate$part" 10 'delay/1') -Quota $quota -ThrottleLimit 10 -RequestsPerSecond $rate -WarmUpUri "$($Base)delay/1?id=warm-up"
        }
        $outcomes = foreach ($batch in $batches) { Wait-SharedBatch $batch }

        $outcomes.Results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
        $times = Get-ArrivalTimes 'rate'
        $times.Count | Should -Be 30
        # The store spaces the starts 1/R apart on its own clock: R + 1 of them span exactly a second, so no window
        # of one second holds more than R + 1 arrivals, whatever the few milliseconds of travel add or take away.
        for ($i = 0; $i + $rate + 1 -lt $times.Count; $i++) {
            ($times[$i + $rate + 1] - $times[$i]).TotalMilliseconds | Should -BeGreaterThan 1000 -Because "arrivals $i to $($i + $rate + 1) are R + 2 starts"
        }
        ($times[-1] - $times[0]).TotalSeconds | Should -BeGreaterThan (29 / $rate - 0.2)
    }

    It 'pauses every participant for a host when one of them is answered 429 with Retry-After' {
        $quota = "$($Redis.Address)/pause"
        $throttled = New-RequestFile -Path (Join-Path $Work 'pause-a.json') -Records @(@{ id = 'pausea1'; uri = "$($Base)status/429?id=pausea1&retryAfter=2" })
        $first = Wait-SharedBatch (Start-SharedBatch -File $throttled -Quota $quota -ThrottleLimit 4 -MaximumRetryCount 0)
        $first.Results.Status | Should -Be 'Failed'

        $second = Wait-SharedBatch (Start-SharedBatch -File (New-SharedFile 'pauseb' 4 'delay/1') -Quota $quota -ThrottleLimit 4)

        $second.Results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
        $answered = (Get-ArrivalTimes 'pausea')[0]
        $resumed = (Get-ArrivalTimes 'pauseb')[0]
        ($resumed - $answered).TotalSeconds | Should -BeGreaterOrEqual 1.9 -Because 'the other process waits out the pause the first one was given'
    }

    It 'stops the others at once, slots held or not, when one participant is answered 429 with Retry-After while they send' {
        $quota = "$($Redis.Address)/pause-live"
        $busy = Start-SharedBatch -File (New-SharedFile 'livebusy' 400 'delay/50') -Quota $quota -ThrottleLimit 4
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ((Get-TestServerStats $Server).served -lt 20 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        $throttled = New-RequestFile -Path (Join-Path $Work 'live-429.json') -Records @(@{ id = 'livethrottled'; uri = "$($Base)status/429?id=livethrottled&retryAfter=2" })

        $first = Wait-SharedBatch (Start-SharedBatch -File $throttled -Quota $quota -ThrottleLimit 4 -MaximumRetryCount 0)
        $outcome = Wait-SharedBatch $busy

        $first.Results.Status | Should -Be 'Failed'
        $outcome.Results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
        $answered = (Get-ArrivalTimes 'livethrottled')[0]
        $sent = Get-ArrivalTimes 'livebusy'
        @($sent | Where-Object { $_ -gt $answered }).Count | Should -BeGreaterThan 0 -Because 'the busy process was still sending when the other was answered 429'
        $during = @($sent | Where-Object { $_ -gt $answered.AddSeconds(0.3) -and $_ -lt $answered.AddSeconds(1.8) })
        $during.Count | Should -Be 0 -Because 'the busy process hears of the pause at once and sends nothing to the host until it ends'
    }

    It 'gives the slots of a participant killed with SIGKILL back within its lease, to a new participant' {
        $quota = "$($Redis.Address)/killed?leaseSec=2"
        $holder = Start-SharedBatch -File (New-SharedFile 'hold' 4 'delay/60000') -Quota $quota -ThrottleLimit 4
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ((Get-TestServerStats $Server).inFlight -lt 4 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        (Get-TestServerStats $Server).inFlight | Should -Be 4
        Stop-Process -Id $holder.Process.Id -Force
        $holder.Process.WaitForExit()
        $holder.Process.Dispose()
        Reset-TestServer $Server
        $killedAt = [DateTimeOffset]::UtcNow

        $after = Wait-SharedBatch (Start-SharedBatch -File (New-SharedFile 'after' 8 'delay/300') -Quota $quota -ThrottleLimit 4)

        $after.Results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
        $after.Summary.SharedSlotsHighest | Should -Be 4
        (Get-TestServerStats $Server).maxInFlight | Should -Be 4
        $first = (Get-ArrivalTimes 'after')[0]
        ($first - $killedAt).TotalSeconds | Should -BeLessThan 15
    }

    It 'refuses to start when the store cannot be reached, naming it without its password, and sends nothing' {
        $nowhere = "redis://:s3cr3t-pw@127.0.0.1:$(Get-FreeLoopbackPort)/down"
        $file = New-SharedFile 'down' 3 'delay/1'

        { Import-RequestFile $file | Invoke-BatchRequest -SharedThrottle $nowhere } |
            Should -Throw -ErrorId 'SharedThrottleUnavailable,BatchRequest.Commands.InvokeBatchRequestCommand'

        try { Import-RequestFile $file | Invoke-BatchRequest -SharedThrottle $nowhere } catch { $failure = $_ }
        $failure.Exception.Message | Should -BeLike '*redis://***@127.0.0.1:*/0/down*'
        "$failure $($failure.TargetObject)" | Should -Not -Match 's3cr3t'
        (Get-TestServerStats $Server).served | Should -Be 0
    }

    It 'ends by itself when the store is killed mid-batch: the rest NotSent with SharedThrottleUnavailable, never over the limit' {
        $store = Start-TestRedis
        try {
            $file = New-SharedFile 'lost' 60 'delay/100'
            $shell = [powershell]::Create()
            $null = $shell.AddScript({
                    param($ModulePath, $File, $Quota)
                    Import-Module $ModulePath
                    Import-RequestFile $File | Invoke-BatchRequest -ThrottleLimit 4 -SharedThrottle $Quota -ErrorAction SilentlyContinue -ErrorVariable failures
                    , $failures
                }).AddArgument((Get-BuiltModulePath)).AddArgument($file).AddArgument("$($store.Address)/lost?outageSec=1")
            $running = $shell.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while ((Get-TestServerStats $Server).served -lt 8 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 10 }
            $store.Process.Kill()

            $running.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(60)) | Should -BeTrue -Because 'the batch ends by itself'
            $output = @($shell.EndInvoke($running))
            $shell.Dispose()
        }
        finally {
            Stop-TestRedis $store
        }

        $failures = $output[-1]
        $results = @($output | Select-Object -SkipLast 1)
        $results.Count | Should -Be 60
        $notSent = @($results | Where-Object Status -EQ 'NotSent')
        $notSent.Count | Should -BeGreaterThan 0
        $notSent.ErrorKind | Sort-Object -Unique | Should -Be 'SharedThrottleUnavailable'
        @($results | Where-Object Status -NotIn 'Succeeded', 'NotSent').Count | Should -Be 0
        $served = (Get-TestServerStats $Server)
        $served.served | Should -Be @($results | Where-Object Status -EQ 'Succeeded').Count
        $served.maxInFlight | Should -BeLessOrEqual 4
        $failures[0].FullyQualifiedErrorId | Should -Be 'SharedThrottleUnavailable,BatchRequest.Commands.InvokeBatchRequestCommand'
        $failures[0].Exception.Message | Should -BeLike "*redis://127.0.0.1:$($store.Port)/0/lost*"
    }

    It 'shows the quota, the slots held and the time waited in the progress' {
        $shell = [powershell]::Create()
        try {
            $null = $shell.AddScript({
                    param($ModulePath, $File, $Quota)
                    Import-Module $ModulePath
                    $ProgressPreference = 'Continue'
                    Import-RequestFile $File | Invoke-BatchRequest -ThrottleLimit 2 -SharedThrottle $Quota
                }).AddArgument((Get-BuiltModulePath)).AddArgument((New-SharedFile 'shown' 8 'delay/150')).AddArgument("$($Redis.Address)/shown")
            $results = $shell.Invoke()

            @($results).Count | Should -Be 8
            $progress = @($shell.Streams.Progress | Where-Object RecordType -EQ 'Processing')
            $progress.Count | Should -BeGreaterThan 0
            $progress[-1].StatusDescription | Should -BeLike "*quota redis://127.0.0.1:$($Redis.Port)/0/shown: up to 2 slots, * s waited*"
        }
        finally {
            $shell.Dispose()
        }
    }

    It 'shares the limit -AdaptiveThrottle finds: a later participant is held to it' {
        $quota = "$($Redis.Address)/adaptive"
        # A server that serves 2 at once and turns the rest away with 503: the adaptive limit comes down towards 2.
        $finder = Wait-SharedBatch (Start-SharedBatch -File (New-SharedFile 'found' 60 'capped/2/50') -Quota $quota -ThrottleLimit 16 -MaximumRetryCount 10 -Adaptive)
        $finder.Results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
        $finder.Summary.ConcurrencyLimit | Should -BeLessThan 16
        Reset-TestServer $Server

        $later = Wait-SharedBatch (Start-SharedBatch -File (New-SharedFile 'held' 30 'delay/100') -Quota $quota -ThrottleLimit 16)

        $later.Results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
        $later.Summary.SharedSlotsHighest | Should -BeLessOrEqual $finder.Summary.ConcurrencyLimit
        (Get-TestServerStats $Server).maxInFlight | Should -BeLessOrEqual $finder.Summary.ConcurrencyLimit
    }

    It 'refuses <Case> with <ErrorId> before anything is sent' -TestCases @(
        @{ Case = 'an address that is not redis://'; ErrorId = 'SharedThrottleInvalid'; Quota = 'http://127.0.0.1:6379/q'; WithCredential = $false }
        @{ Case = 'an address without a quota name'; ErrorId = 'SharedThrottleInvalid'; Quota = 'redis://127.0.0.1:6379'; WithCredential = $false }
        @{ Case = 'a lease longer than 15 s'; ErrorId = 'SharedThrottleInvalid'; Quota = 'redis://127.0.0.1:6379/q?leaseSec=60'; WithCredential = $false }
        @{ Case = 'a password twice'; ErrorId = 'SharedThrottleCredentialTwice'; Quota = 'redis://:pw@127.0.0.1:6379/q'; WithCredential = $true }
        @{ Case = '-SharedThrottleCredential alone'; ErrorId = 'SharedThrottleCredentialWithoutQuota'; Quota = $null; WithCredential = $true }
    ) {
        param($ErrorId, $Quota, $WithCredential)
        $parameters = @{}
        if ($Quota) { $parameters.SharedThrottle = $Quota }
        if ($WithCredential) { $parameters.SharedThrottleCredential = [pscredential]::new('user', (ConvertTo-SecureString 'pw' -AsPlainText -Force)) }
        $file = New-SharedFile 'refused' 1 'delay/1'

        { Import-RequestFile $file | Invoke-BatchRequest @parameters } | Should -Throw -ErrorId "$ErrorId,BatchRequest.Commands.InvokeBatchRequestCommand"
        (Get-TestServerStats $Server).served | Should -Be 0
    }

    It 'takes the store''s password from -SharedThrottleCredential and shows it nowhere' {
        $guarded = Start-TestRedis -Password 'q-pa55'
        try {
            $credential = [pscredential]::new('default', (ConvertTo-SecureString 'q-pa55' -AsPlainText -Force))
            $results = Import-RequestFile (New-SharedFile 'auth' 3 'delay/1') |
                Invoke-BatchRequest -SharedThrottle "$($guarded.Address)/auth" -SharedThrottleCredential $credential -InformationVariable information

            $results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
            "$($information.MessageData)" | Should -Match "shared quota redis://\*\*\*@127.0.0.1:$($guarded.Port)/0/auth"
            "$($information.MessageData)" | Should -Not -Match 'q-pa55'
        }
        finally {
            Stop-TestRedis $guarded
        }
    }
}

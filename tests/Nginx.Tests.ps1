# The nginx harness of tests/services.ps1 itself, before any test of the module relies on it.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $null = Install-TestTool -Command nginx -Package nginx
    $script:Server = Start-TestServer
    $script:Nginx = Start-TestNginx -Upstream $Server.BaseUri -ConnectionLimit 2 -RatePerSecond 2
    $script:Front = $Nginx.BaseUri
}

AfterAll {
    Stop-TestNginx $Nginx
    Stop-TestServer $Server
}

Describe 'The nginx test harness' {
    BeforeEach {
        Reset-TestServer $Server
        Clear-NginxAccessLog $Nginx
    }

    It 'starts nginx on a loopback port with every path in its prefix' {
        $Nginx.Process.HasExited | Should -BeFalse
        $Front.Host | Should -Be '127.0.0.1'
        Get-Content -LiteralPath $Nginx.ConfigPath -Raw | Should -Match ([regex]::Escape("pid $($Nginx.Prefix)/nginx.pid;"))

        $answer = Invoke-WebRequest -Uri "$($Front)nothing-here" -SkipHttpErrorCheck

        $answer.StatusCode | Should -Be 404
        "$($answer.Headers['Server'])" | Should -BeLike 'nginx*'
    }

    It 'turns away with 503 the requests past the connection limit and proxies the others to /delay' {
        $front = "$Front"
        $answers = 1..10 | ForEach-Object -ThrottleLimit 10 -Parallel {
            $answer = Invoke-WebRequest -Uri "$($using:front)slow/500?id=s$_" -SkipHttpErrorCheck
            [pscustomobject]@{ Id = "s$_"; Status = [int]$answer.StatusCode; Content = "$($answer.Content)" }
        }

        $ok = @($answers | Where-Object Status -EQ 200)
        $rejected = @($answers | Where-Object Status -EQ 503)
        ($ok.Count + $rejected.Count) | Should -Be 10
        $ok.Count | Should -BeGreaterOrEqual 2
        $rejected.Count | Should -BeGreaterOrEqual 1
        $ok | ForEach-Object { ($_.Content | ConvertFrom-Json).id | Should -Be $_.Id }

        # Only the admitted requests reach the upstream, on at most ConnectionLimit kept-alive connections.
        $ledger = @(Get-TestServerLedger $Server)
        ($ledger.id | Sort-Object) | Should -Be ($ok.Id | Sort-Object)
        $ledger.path | ForEach-Object { $_ | Should -BeLike '/delay/500?id=s*' }
        (Get-TestServerStats $Server).connections | Should -BeLessOrEqual 2

        $log = @(Get-NginxAccessLog $Nginx -Expect 10)
        $log.Count | Should -Be 10
        foreach ($answer in $answers) {
            $entry = @($log | Where-Object Id -EQ $answer.Id)
            $entry.Count | Should -Be 1
            $entry[0].Status | Should -Be $answer.Status
            $entry[0].Method | Should -Be 'GET'
            $entry[0].Uri | Should -Be "/slow/500?id=$($answer.Id)"
        }
    }

    It 'answers 429 at once to a request that comes sooner than the rate allows' {
        $first = Invoke-WebRequest -Uri "$($Front)paced?id=p1" -SkipHttpErrorCheck
        $second = Invoke-WebRequest -Uri "$($Front)paced?id=p2" -SkipHttpErrorCheck

        $first.StatusCode | Should -Be 200
        $second.StatusCode | Should -Be 429
        $log = @(Get-NginxAccessLog $Nginx -Expect 2)
        ($log | ForEach-Object { "$($_.Id)=$($_.Status)" }) | Should -Be @('p1=200', 'p2=429')
        $log[1].Time | Should -BeGreaterOrEqual $log[0].Time
        $log[1].RequestTime | Should -BeLessThan 0.1
        # The rejected one never reaches the upstream.
        (Get-TestServerLedger $Server).id | Should -Be 'p1'
    }

    It 'closes the connection without an answer on /close' {
        $failure = $null
        try { $null = Invoke-WebRequest -Uri "$($Front)close?id=c1" } catch { $failure = $_ }

        $failure | Should -Not -BeNullOrEmpty
        $failure.Exception | Should -BeOfType ([Net.Http.HttpRequestException])
        $failure.Exception.StatusCode | Should -BeNullOrEmpty
        # SocketsHttpHandler may send it again on another connection by itself, so count the arrivals of one raw
        # request instead.
        (Get-NginxAccessLog $Nginx -Expect 1).Status | Sort-Object -Unique | Should -Be 444
        Clear-NginxAccessLog $Nginx
        $tcp = [Net.Sockets.TcpClient]::new('127.0.0.1', $Front.Port)
        try {
            $stream = $tcp.GetStream()
            $stream.Write([Text.Encoding]::ASCII.GetBytes("GET /close?id=c2 HTTP/1.1`r`nHost: 127.0.0.1`r`n`r`n"))
            $stream.ReadTimeout = 5000
            $stream.Read([byte[]]::new(1024), 0, 1024) | Should -Be 0
        }
        finally {
            $tcp.Dispose()
        }

        $log = @(Get-NginxAccessLog $Nginx -Expect 1)
        $log.Count | Should -Be 1
        $log[0].Status | Should -Be 444
        $log[0].Id | Should -Be 'c2'
    }

    It 'logs the connection of each request, so reuse can be counted' {
        $client = [Net.Http.HttpClient]::new()
        try {
            foreach ($id in 'k1', 'k2') { $null = $client.GetAsync("$($Front)nothing-here?id=$id").GetAwaiter().GetResult() }
            $null = $client.PostAsync("$($Front)nothing-here?id=k3", [Net.Http.StringContent]::new('{}')).GetAwaiter().GetResult()
        }
        finally {
            $client.Dispose()
        }

        $log = @(Get-NginxAccessLog $Nginx -Expect 3)
        $log.Id | Should -Be @('k1', 'k2', 'k3')
        $log.Method | Should -Be @('GET', 'GET', 'POST')
        @($log.Connection | Sort-Object -Unique).Count | Should -Be 1
        $log.ConnectionRequests | Should -Be @(1, 2, 3)
    }

    It 'stops nginx and removes its prefix' {
        $other = Start-TestNginx -Upstream $Server.BaseUri
        $processId = $other.Process.Id
        (Invoke-WebRequest -Uri "$($other.BaseUri)paced" -SkipHttpErrorCheck).StatusCode | Should -Be 200

        Stop-TestNginx $other

        Get-Process -Id $processId -ErrorAction Ignore | Should -BeNullOrEmpty
        Test-Path -LiteralPath $other.Prefix | Should -BeFalse
        Test-LoopbackPort $other.BaseUri.Port | Should -BeFalse
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $script:Server = Start-TestServer
    $script:Base = $Server.BaseUri
    $script:Second = $Server.SecondBaseUri
    $script:Https = $Server.HttpsBaseUri
    $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "batchrequest-$([guid]::NewGuid())")).FullName
    $script:Secret = 'S3cr3t-' + [guid]::NewGuid().ToString('N')
    $script:SecureSecret = ConvertTo-SecureString $Secret -AsPlainText -Force

    function Send-Records([object[]] $Records, [hashtable] $Parameters = @{}) {
        $file = New-RequestFile -Path (Join-Path $Work "$([guid]::NewGuid()).json") -Records $Records
        Import-RequestFile $file | Invoke-BatchRequest @Parameters
    }

    # For tests that read -ErrorVariable, which a helper function would keep in its own scope.
    function New-TestFile([object[]] $Records) {
        New-RequestFile -Path (Join-Path $Work "$([guid]::NewGuid()).json") -Records $Records
    }
}

AfterAll {
    Stop-TestServer $Server
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'Invoke-BatchRequest credentials and safety' {
    BeforeEach {
        Reset-TestServer $Server
    }

    It 'sends a bearer token and basic credentials' {
        $bearer = Send-Records @(@{ id = 'b1'; uri = "$($Base)bearer/$($Secret)?id=b1" }) @{ Token = $SecureSecret; AllowUnencryptedAuthentication = $true }
        $credential = [pscredential]::new('admin', (ConvertTo-SecureString 'pa55' -AsPlainText -Force))
        $basic = Send-Records @(@{ id = 'b2'; uri = "$($Base)echo?id=b2" }) @{ Credential = $credential; AllowUnencryptedAuthentication = $true }

        $bearer.Status | Should -Be 'Succeeded'
        $basic.Status | Should -Be 'Succeeded'
        (Get-TestServerLedger $Server | Where-Object id -EQ 'b2').authorization |
            Should -Be ('Basic ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('admin:pa55')))
    }

    It 'refreshes the token exactly once for 40 workers that all got 401, on the pipeline thread' {
        $script:providerCalls = 0
        $script:providerThreads = [Collections.Generic.List[int]]::new()
        $provider = {
            $script:providerCalls++
            $script:providerThreads.Add([Environment]::CurrentManagedThreadId)
            ConvertTo-SecureString ($(if ($script:providerCalls -eq 1) { 'stale' } else { 'fresh' })) -AsPlainText -Force
        }
        $records = foreach ($i in 1..40) { @{ id = "r$i"; uri = "$($Base)bearer/fresh?id=r$i&delay=50" } }

        $results = Send-Records $records @{ TokenProvider = $provider; ThrottleLimit = 40; AllowUnencryptedAuthentication = $true }

        $results.Status | Sort-Object -Unique | Should -Be 'Succeeded'
        $script:providerCalls | Should -Be 2
        $script:providerThreads | Sort-Object -Unique | Should -Be ([Environment]::CurrentManagedThreadId)
        $ledger = Get-TestServerLedger $Server
        @($ledger | Where-Object authorization -EQ 'Bearer stale').Count | Should -Be 40
        @($ledger | Where-Object authorization -EQ 'Bearer fresh').Count | Should -Be 40
    }

    It 'asks a -TokenProvider that fails once for all 30 records at T=15, which end TokenRefreshFailed' {
        $script:providerCalls = 0
        $provider = {
            $script:providerCalls++
            if ($script:providerCalls -gt 1) { throw 'the vault is locked' }
            ConvertTo-SecureString 'stale' -AsPlainText -Force
        }
        $file = New-TestFile @(foreach ($i in 1..30) { @{ id = "t$i"; uri = "$($Base)bearer/fresh?id=t$i&delay=50" } })

        $results = Import-RequestFile $file | Invoke-BatchRequest -TokenProvider $provider -ThrottleLimit 15 `
            -AllowUnencryptedAuthentication -ErrorVariable failures -ErrorAction SilentlyContinue

        $script:providerCalls | Should -Be 2
        $results.Count | Should -Be 30
        $results.Status | Sort-Object -Unique | Should -Be 'Failed'
        $results.ErrorKind | Sort-Object -Unique | Should -Be 'TokenRefreshFailed'
        $results.Error | Where-Object { $_ -notlike '*the vault is locked*' } | Should -BeNullOrEmpty
        $failures.FullyQualifiedErrorId | Sort-Object -Unique | Should -Be 'RequestTokenRefreshFailed,BatchRequest.Commands.InvokeBatchRequestCommand'
        @(Get-TestServerLedger $Server | Where-Object authorization -NE 'Bearer stale').Count | Should -Be 0
    }

    It 'refuses a redirect to ftp:// as RedirectRefused, <Case>' -TestCases @(
        @{ Case = 'by default'; Parameters = @{} }
        @{ Case = 'with -FollowCrossOriginRedirect'; Parameters = @{ FollowCrossOriginRedirect = $true } }
    ) {
        param($Parameters)
        $file = New-TestFile @(@{ id = 'ftp1'; uri = "$($Base)redirect/302?id=ftp1&to=$([uri]::EscapeDataString('ftp://127.0.0.1/orders.csv'))" })
        $result = Import-RequestFile $file | Invoke-BatchRequest @Parameters -ErrorVariable failures -ErrorAction SilentlyContinue

        $result.Status | Should -Be 'Failed'
        $result.ErrorKind | Should -Be 'RedirectRefused'
        $result.Error | Should -BeLike '*ftp://127.0.0.1/orders.csv*http and https*'
        $failures[0].FullyQualifiedErrorId | Should -Be 'RequestRedirectRefused,BatchRequest.Commands.InvokeBatchRequestCommand'
    }

    It 'refuses a cross-origin redirect by default and never contacts the other origin' {
        $target = "$($Second)echo?id=x1"
        $file = New-TestFile @(@{ id = 'x1'; uri = "$($Base)redirect/302?id=x1&to=$([uri]::EscapeDataString($target))" })
        $result = Import-RequestFile $file | Invoke-BatchRequest -ErrorVariable failures -ErrorAction SilentlyContinue

        $result.Status | Should -Be 'Failed'
        $result.ErrorKind | Should -Be 'RedirectRefused'
        $failures[0].FullyQualifiedErrorId | Should -Be 'RequestRedirectRefused,BatchRequest.Commands.InvokeBatchRequestCommand'
        @(Get-TestServerLedger $Server | Where-Object host -EQ $Second.Authority).Count | Should -Be 0
    }

    It 'follows an allowed cross-origin redirect without Authorization, X-Api-Key or secret headers' {
        $target = "$($Second)echo?id=x2"
        $record = @{ id = 'x2'; uri = "$($Base)redirect/307?id=x2&to=$([uri]::EscapeDataString($target))"; headers = @{ 'X-Tenant' = 'T1'; 'X-Custom-Secret' = $Secret } }
        $parameters = @{
            Token = $SecureSecret; AllowUnencryptedAuthentication = $true; FollowCrossOriginRedirect = $true
            Headers = @{ 'X-Api-Key' = $Secret }; SecretHeader = 'X-Custom-Secret'
        }

        $result = Send-Records @($record) $parameters

        $result.Status | Should -Be 'Succeeded'
        $ledger = Get-TestServerLedger $Server
        $first = $ledger | Where-Object host -EQ $Base.Authority
        $first.authorization | Should -Be "Bearer $Secret"
        $first.apiKey | Should -Be $Secret
        $hop = $ledger | Where-Object host -EQ $Second.Authority
        $hop | Should -Not -BeNullOrEmpty
        $hop.authorization | Should -BeNullOrEmpty
        $hop.apiKey | Should -BeNullOrEmpty
        $echo = $result.Content | ConvertFrom-Json -AsHashtable
        $echo.headers.Keys | Should -Not -Contain 'X-Custom-Secret'
        $echo.headers['X-Tenant'] | Should -Be 'T1'
    }

    It 'refuses a redirect from https to http' {
        $target = "$($Base)echo?id=d1"
        $result = Send-Records @(@{ id = 'd1'; uri = "$($Https)redirect/302?id=d1&to=$([uri]::EscapeDataString($target))" }) @{
            SkipCertificateCheck = $true; WarningAction = 'SilentlyContinue'; ErrorAction = 'SilentlyContinue'
        }

        $result.ErrorKind | Should -Be 'RedirectRefused'
        @(Get-TestServerLedger $Server | Where-Object host -EQ $Base.Authority).Count | Should -Be 0
    }

    It 'fails a self-signed certificate as a TLS error after one attempt, and accepts it with -SkipCertificateCheck after one warning' {
        $file = New-TestFile @(@{ id = 't1'; uri = "$($Https)echo?id=t1" })

        $refused = Import-RequestFile $file | Invoke-BatchRequest -ErrorVariable failures -ErrorAction SilentlyContinue
        $accepted = Import-RequestFile $file | Invoke-BatchRequest -SkipCertificateCheck -WarningVariable warnings -WarningAction SilentlyContinue

        $refused.Status | Should -Be 'Failed'
        $refused.ErrorKind | Should -Be 'TlsFailure'
        $refused.Attempts | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'RequestTlsFailure,*'
        $accepted.Status | Should -Be 'Succeeded'
        $warnings.Count | Should -Be 1
    }

    It 'ends a <Name> as ResponseTooLarge with bounded memory' -TestCases @(
        @{ Name = '100 MB body'; Path = 'huge/100' }
        @{ Name = 'gzip body expanding to 1 GB'; Path = 'gzip-bomb/1024' }
    ) {
        param($Path)
        [GC]::Collect()
        $before = [Diagnostics.Process]::GetCurrentProcess().WorkingSet64

        $result = Send-Records @(@{ id = 'big'; uri = "$($Base)$($Path)?id=big" }) @{ ErrorAction = 'SilentlyContinue' }

        $result.Status | Should -Be 'Failed'
        $result.ErrorKind | Should -Be 'ResponseTooLarge'
        $result.Attempts | Should -Be 1
        $grown = [Diagnostics.Process]::GetCurrentProcess().WorkingSet64 - $before
        $grown | Should -BeLessThan 200MB
    }

    It 'refuses to send credentials over plain http' {
        $file = New-TestFile @(@{ id = 'h1'; uri = "$($Base)echo?id=h1" })
        $result = Import-RequestFile $file | Invoke-BatchRequest -Token $SecureSecret -ErrorVariable failures -ErrorAction SilentlyContinue

        $result.Status | Should -Be 'NotSent'
        $result.ErrorKind | Should -Be 'InsecureAuthentication'
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'RequestInsecureAuthentication,*'
        (Get-TestServerStats $Server).served | Should -Be 0
    }

    It 'refuses a secret header over plain http from <Name>, as it refuses -Token' -TestCases @(
        @{ Name = '-Headers'; Record = @{}; Parameters = @{ Headers = @{ Authorization = 'Bearer S3cr3t' } } }
        @{ Name = 'the record'; Record = @{ headers = @{ 'X-Api-Key' = 'S3cr3t' } }; Parameters = @{} }
        @{ Name = 'the record, named by -SecretHeader'; Record = @{ headers = @{ 'X-Custom-Secret' = 'S3cr3t' } }; Parameters = @{ SecretHeader = 'X-Custom-Secret' } }
    ) {
        param($Record, $Parameters)
        $file = New-TestFile @($Record + @{ id = 'h2'; uri = "$($Base)echo?id=h2" })
        $result = Import-RequestFile $file | Invoke-BatchRequest @Parameters -ErrorVariable failures -ErrorAction SilentlyContinue

        $result.Status | Should -Be 'NotSent'
        $result.ErrorKind | Should -Be 'InsecureAuthentication'
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'RequestInsecureAuthentication,*'
        $failures[0].Exception.Message | Should -Not -BeLike '*S3cr3t*'
        (Get-TestServerStats $Server).served | Should -Be 0
    }

    It 'allows only the given port with -AllowedHost host:port, redirects included, and every port with host alone' {
        $target = [uri]::EscapeDataString("$($Second)echo?id=p3")
        $file = New-TestFile @(
            @{ id = 'p1'; uri = "$($Base)echo?id=p1" }
            @{ id = 'p2'; uri = "$($Second)echo?id=p2" }
            @{ id = 'p3'; uri = "$($Base)redirect/302?id=p3&to=$target" }
        )
        $parameters = @{ FollowCrossOriginRedirect = $true; ErrorAction = 'SilentlyContinue' }

        $onePort = Import-RequestFile $file | Invoke-BatchRequest @parameters -AllowedHost "127.0.0.1:$($Base.Port)"
        $onePortLedger = Get-TestServerLedger $Server
        Reset-TestServer $Server
        $anyPort = Import-RequestFile $file | Invoke-BatchRequest @parameters -AllowedHost '127.0.0.1'

        ($onePort | Sort-Object Id).Status | Should -Be @('Succeeded', 'NotSent', 'Failed')
        ($onePort | Sort-Object Id).ErrorKind | Should -Be @('None', 'HostNotAllowed', 'HostNotAllowed')
        @($onePortLedger | Where-Object host -EQ $Second.Authority).Count | Should -Be 0
        ($anyPort | Sort-Object Id).Status | Should -Be @('Succeeded', 'Succeeded', 'Succeeded')
    }

    It 'does not contact a host outside -AllowedHost' {
        $file = New-TestFile @(@{ id = 'a1'; uri = "$($Base)echo?id=a1" })
        $result = Import-RequestFile $file | Invoke-BatchRequest -AllowedHost 'api.example.com' -ErrorVariable failures -ErrorAction SilentlyContinue

        $result.Status | Should -Be 'NotSent'
        $result.ErrorKind | Should -Be 'HostNotAllowed'
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'RequestHostNotAllowed,*'
        (Get-TestServerStats $Server).served | Should -Be 0
    }

    It 'leaks no secret into any stream, result, error, -WhatIf line or the journal, and the token not even into -FailedPath' {
        $token = 'T0ken-' + [guid]::NewGuid().ToString('N')
        $records = @(
            @{ id = 'L1'; uri = "$($Base)flaky/1/503?id=L1&token=$Secret"; headers = @{ 'X-Api-Key' = $Secret } }
            @{ id = 'L2'; uri = "$($Base)status/404?id=L2&sig=$Secret" }
            @{ id = 'L3'; method = 'POST'; uri = "$($Base)reset?id=L3"; headers = @{ Authorization = "Bearer $Secret" } }
        )
        $file = New-RequestFile -Path (Join-Path $Work 'leak.json') -Records $records
        $journal = Join-Path $Work 'leak-journal.ndjson'
        $failed = Join-Path $Work 'leak-failed.ndjson'
        $parameters = @{
            Token = (ConvertTo-SecureString $token -AsPlainText -Force); AllowUnencryptedAuthentication = $true
            RetryIntervalSec = 0.01; Verbose = $true; Debug = $true
        }

        $everything = Import-RequestFile $file |
            Invoke-BatchRequest @parameters -JournalPath $journal -FailedPath $failed -ErrorAction Continue -ErrorVariable failures -InformationVariable info *>&1
        $whatIf = Import-RequestFile $file | Invoke-BatchRequest @parameters -WhatIf *>&1

        $results = $everything | Where-Object { $_ -is [BatchRequest.Model.Results.BatchResult] }
        $results.Count | Should -Be 3
        $shown = @(
            $everything | Out-String -Width 4096
            $everything | Format-List * -Force | Out-String -Width 4096
            $results | ConvertTo-Json -Depth 6
            $results.Request | Format-List * | Out-String -Width 4096
            $results | ForEach-Object { $_.Request.Headers | Out-String -Width 4096 }
            $failures | Format-List * -Force | Out-String -Width 4096
            $failures | ForEach-Object { $_.TargetObject | ConvertTo-Json -Depth 4 }
            $info | Format-List * | Out-String -Width 4096
            $whatIf | Out-String -Width 4096
            Get-Content -LiteralPath $journal -Raw
        ) -join "`n"
        $shown | Should -Not -BeLike "*$Secret*"
        $shown | Should -Not -BeLike "*$token*"
        $shown | Should -BeLike '*token=`*`*`**'

        # Failed records are written back as they were read, to be sent again, without the batch's token and without
        # their own secret headers (L2's query is no header: it is written back as it was read, to be resent).
        $dead = Get-Content -LiteralPath $failed -Raw
        $dead | Should -Not -BeLike "*$token*"
        $dead | Should -Not -BeLike "*Bearer $Secret*"
        $dead | Should -Not -BeLike '*Authorization*'
        @(Get-Content -LiteralPath $failed).Count | Should -Be 2
    }

    It 'writes no secret header of a .http file to -FailedPath, and the failed records resend with -Headers' {
        $env:BATCHREQUEST_TEST_API_TOKEN = "T-$Secret"
        $env:BATCHREQUEST_TEST_API_KEY = "K-$Secret"
        try {
            $http = Join-Path $Work 'leak.http'
            $lines = @(
                '# @name F1'
                "POST $($Base)status/500?id=F1"
                'Authorization: Bearer {{$processEnv BATCHREQUEST_TEST_API_TOKEN}}'
                'X-Api-Key: {{$processEnv BATCHREQUEST_TEST_API_KEY}}'
                "X-Custom-Secret: C-$Secret"
                'X-Tenant: T1'
                'Content-Type: application/json'
                ''
                '{"n": 1}'
            )
            Set-Content -LiteralPath $http -Value ($lines -join "`n")
            $failed = Join-Path $Work 'leak-http-failed.ndjson'
            $journal = Join-Path $Work 'leak-http-journal.ndjson'
            $common = @{ AllowUnencryptedAuthentication = $true; ErrorAction = 'SilentlyContinue' }

            $result = Import-RequestFile $http | Invoke-BatchRequest @common -SecretHeader X-Custom-Secret -FailedPath $failed -JournalPath $journal

            $result.Status | Should -Be 'Failed'
            $sent = Get-TestServerLedger $Server | Where-Object id -EQ 'F1'
            $sent.authorization | Should -Be "Bearer T-$Secret"
            $sent.apiKey | Should -Be "K-$Secret"
            (Get-Content -LiteralPath $failed -Raw) + (Get-Content -LiteralPath $journal -Raw) | Should -Not -BeLike "*$Secret*"

            $again = Import-RequestFile $failed
            $again.Id | Should -Be 'F1'
            $again.Method | Should -Be 'POST'
            $again.Body | Should -Be '{"n": 1}'
            $again.ContentType | Should -Be 'application/json'
            @($again.Headers.Keys) | Should -Be @('X-Tenant')

            $null = $again | Invoke-BatchRequest @common -Headers @{ Authorization = "Bearer T-$Secret"; 'X-Api-Key' = "K-$Secret" }
            $resent = @(Get-TestServerLedger $Server | Where-Object id -EQ 'F1')[1]
            $resent.authorization | Should -Be "Bearer T-$Secret"
            $resent.apiKey | Should -Be "K-$Secret"
        }
        finally {
            Remove-Item Env:BATCHREQUEST_TEST_API_TOKEN, Env:BATCHREQUEST_TEST_API_KEY -ErrorAction Ignore
        }
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $script:Server = Start-TestServer
    $script:Base = $Server.BaseUri.AbsoluteUri.TrimEnd('/')
    $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "batchrequest-$([guid]::NewGuid())")).FullName
}

AfterAll {
    Stop-TestServer $Server
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'New-BatchRequest' {
    It 'builds a GET request with a stable id from method and URI, its query values masked' {
        $record = New-BatchRequest "$Base/echo?id=n1&api_key=S3CRET"

        $record | Should -BeOfType ([BatchRequest.Model.Requests.RequestRecord])
        $record.Method | Should -Be 'GET'
        $record.Id | Should -Match "^GET $([regex]::Escape("$Base/echo?id=***&api_key=***")) #[0-9a-f]{8}$"
        (New-BatchRequest "$Base/echo?id=n1&api_key=S3CRET").Id | Should -Be $record.Id
        (New-BatchRequest "$Base/echo?id=n2&api_key=S3CRET").Id | Should -Not -Be $record.Id
        (New-BatchRequest "$Base/plain").Id | Should -Be "GET $Base/plain"
    }

    It 'writes a non-string body as JSON and keeps every other field' {
        $record = New-BatchRequest -Uri 'orders' -BaseUri "$Base/" -Method post -Id 'o-1' -IdempotencyKey 'k-1' -TimeoutSec 2.5 `
            -Headers @{ 'X-Trace' = 7 } -Body ([ordered]@{ sku = 'A-17'; qty = 2; tags = @('x', 'y'); gift = $false; note = $null })

        $record.Uri.AbsoluteUri | Should -Be "$Base/orders"
        $record.Method | Should -Be 'POST'
        $record.Body | Should -Be '{"sku":"A-17","qty":2,"tags":["x","y"],"gift":false,"note":null}'
        $record.ContentType | Should -Be 'application/json'
        $record.Headers['X-Trace'] | Should -Be '7'
        $record.Timeout | Should -Be ([timespan]::FromSeconds(2.5))
        ($record.Id, $record.IdempotencyKey) | Should -Be @('o-1', 'k-1')
    }

    It 'reports <ErrorId> for <Name> as a non-terminating error' -TestCases @(
        @{ Name = 'a relative URI without -BaseUri'; Arguments = @{ Uri = 'users/7' }; ErrorId = 'RequestInvalidUri' }
        @{ Name = 'an empty URI'; Arguments = @{ Uri = '' }; ErrorId = 'RequestMissingUri' }
        @{ Name = 'a body on GET'; Arguments = @{ Uri = 'http://h/'; Body = 'x' }; ErrorId = 'RequestBodyNotAllowed' }
        @{ Name = 'a line break in a header'; Arguments = @{ Uri = 'http://h/'; Headers = @{ A = "1`r`nB: 2" } }; ErrorId = 'RequestInvalidHeader' }
    ) {
        param($Arguments, $ErrorId)
        $record = New-BatchRequest @Arguments -ErrorVariable reported -ErrorAction SilentlyContinue

        $record | Should -BeNullOrEmpty
        $reported.FullyQualifiedErrorId | Should -Be "$ErrorId,BatchRequest.Commands.NewBatchRequestCommand"
        $reported.CategoryInfo.Category | Should -Be 'InvalidData'
    }
}

Describe 'Objects piped into Invoke-BatchRequest' {
    BeforeEach {
        Reset-TestServer $Server
    }

    It 'sends the rows of Import-Csv, binding Id, Method, Url, Body and Header columns by name' {
        $csv = Join-Path $Work 'rows.csv'
        @(
            [pscustomobject]@{ Id = 'c1'; Method = 'POST'; Url = "$Base/echo?id=c1"; Body = 'hello'; 'Header.X-Trace' = 't1'; Customer = 'kept out' }
            [pscustomobject]@{ Id = 'c2'; Method = ''; Url = "$Base/echo?id=c2"; Body = ''; 'Header.X-Trace' = ''; Customer = 'x' }
        ) | Export-Csv -LiteralPath $csv

        $results = Import-Csv -LiteralPath $csv | Invoke-BatchRequest

        $results.Id | Sort-Object | Should -Be @('c1', 'c2')
        $echo = ($results | Where-Object Id -EQ 'c1').Content | ConvertFrom-Json
        ($echo.method, $echo.body, $echo.headers.'X-Trace') | Should -Be @('POST', 'hello', 't1')
        ((Get-TestServerLedger $Server) | Sort-Object id).method | Should -Be @('POST', 'GET')
    }

    It 'sends [pscustomobject] and hashtable requests, with Headers and a JSON body' {
        $results = @(
            [pscustomobject]@{ Uri = "$Base/echo?id=o1"; Method = 'PUT'; Headers = @{ 'X-A' = 'a' }; Body = @{ n = 1 } }
            @{ Uri = "$Base/echo?id=o2"; Headers = [pscustomobject]@{ 'X-B' = 'b' } }
        ) | Invoke-BatchRequest

        $results.Status | Should -Be @('Succeeded', 'Succeeded')
        $put = ($results | Where-Object Method -EQ 'PUT').Content | ConvertFrom-Json
        $put.body | Should -Be '{"n":1}'
        $put.headers.'Content-Type' | Should -BeLike 'application/json*'
        $put.headers.'X-A' | Should -Be 'a'
        (($results | Where-Object Method -EQ 'GET').Content | ConvertFrom-Json).headers.'X-B' | Should -Be 'b'
    }

    It 'gives the same requests from Import-Csv rows as from the CSV file' {
        $csv = Join-Path $Work 'same.csv'
        Set-Content -LiteralPath $csv -Value "Id,Method,Uri,Header.X-N,Body,ContentType`na,POST,$Base/echo,1,{},application/json`nb,,$Base/echo,,,`n"

        $fromFile = Import-RequestFile $csv
        $fromObjects = Import-Csv -LiteralPath $csv | ForEach-Object { [BatchRequest.Model.Requests.RequestRecord]$_ }

        foreach ($i in 0, 1) {
            $fromObjects[$i].Id | Should -Be $fromFile[$i].Id
            $fromObjects[$i].Method | Should -Be $fromFile[$i].Method
            $fromObjects[$i].Uri | Should -Be $fromFile[$i].Uri
            $fromObjects[$i].Body | Should -Be $fromFile[$i].Body
            $fromObjects[$i].ContentType | Should -Be $fromFile[$i].ContentType
            $fromObjects[$i].Headers['X-N'] | Should -Be $fromFile[$i].Headers['X-N']
        }
    }

    It 'explains why an object is not a request when it is passed to -InputObject' {
        $caught = $null
        try { Invoke-BatchRequest -InputObject @{ Uri = 'ftp://h/'; Id = 'f1' } } catch { $caught = $_ }

        $caught.Exception.Message | Should -BeLike "*(id 'f1')*the scheme 'ftp' is not http or https*"
        $cause = $caught.Exception
        while ($cause -and $cause -isnot [BatchRequest.Model.Requests.RequestFileException]) { $cause = $cause.InnerException }
        $cause.ErrorId | Should -Be 'RequestInvalidUri'
    }

    It 'sends nothing for a piped object that is not a valid request, says why, and the rest still go' {
        # The binder reports a failed transformation itself, before the command runs, so the command's -ErrorAction
        # does not apply to it; only the preference does.
        $ErrorActionPreference = 'Continue'
        $output = @(
            [pscustomobject]@{ Uri = "$Base/echo?id=good" }
            [pscustomobject]@{ Uri = 'relative/path' }
            [pscustomobject]@{ Name = 'no uri at all' }
        ) | Invoke-BatchRequest 2>&1

        $results = @($output | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
        $results.Id | Should -BeLike "GET $Base/echo?id=``*``*``* #*"
        (Get-TestServerLedger $Server).id | Should -Be 'good'
        $refused = @($output | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $refused.FullyQualifiedErrorId | Should -Be (@('ParameterArgumentTransformationError,BatchRequest.Commands.InvokeBatchRequestCommand') * 2)
        $refused[0].Exception.Message | Should -BeLike "*the 'uri' is relative and no -BaseUri was given*"
        $refused[1].Exception.Message | Should -BeLike "*the record has no 'uri'*"
        $causes = foreach ($refusal in $refused) {
            $cause = $refusal.Exception
            while ($cause -and $cause -isnot [BatchRequest.Model.Requests.RequestFileException]) { $cause = $cause.InnerException }
            $cause.ErrorId
        }
        $causes | Should -Be @('RequestInvalidUri', 'RequestMissingUri')
    }
}

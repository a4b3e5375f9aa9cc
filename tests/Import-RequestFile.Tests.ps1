BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $script:Server = Start-TestServer
    $script:Base = $Server.BaseUri.AbsoluteUri.TrimEnd('/')
    $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "batchrequest-$([guid]::NewGuid())")).FullName
    $script:Command = 'BatchRequest.Commands.ImportRequestFileCommand'

    function Write-TextFile {
        <# Writes text (with BASE standing for the test server) to a file in the work folder and returns its path. #>
        param([string] $Name, [string] $Content, [string] $Encoding = 'utf8NoBOM')
        $path = Join-Path $Work $Name
        Set-Content -LiteralPath $path -Value $Content.Replace('BASE', $Base) -NoNewline -Encoding $Encoding
        $path
    }

    function Invoke-Import {
        <# Runs Import-RequestFile, returning what it emitted, the errors it reported, and the terminating one. #>
        param([hashtable] $Arguments, [switch] $Send)
        $caught = $null
        $emitted = try {
            if ($Send) { Import-RequestFile @Arguments -ErrorVariable reported -ErrorAction SilentlyContinue | Invoke-BatchRequest }
            else { Import-RequestFile @Arguments -ErrorVariable reported -ErrorAction SilentlyContinue }
        }
        catch {
            $caught = $_
        }

        [pscustomobject]@{
            Emitted  = @($emitted)
            Reported = @($reported | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            Caught   = $caught
        }
    }

    function Get-Shape {
        <# One line per request with everything that is sent, so that two sources can be compared. #>
        param([Parameter(ValueFromPipeline)] $Record)
        process {
            $headers = ($Record.Headers.GetEnumerator() | Sort-Object Key | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ','
            '{0}|{1}|{2}|{3}|{4}|{5}' -f $Record.Id, $Record.Method, $Record.Uri.AbsoluteUri, $headers, $Record.Body, $Record.ContentType
        }
    }
}

AfterAll {
    Stop-TestServer $Server
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'Import-RequestFile' {
    BeforeEach {
        Reset-TestServer $Server
    }

    Context 'formats' {
        BeforeAll {
            $script:Expected = @(
                "a|POST|$Base/echo?id=a|X-N=1|{`"n`":1}|application/json"
                "b|GET|$Base/echo?id=b|||"
            )
        }

        It 'reads <Name> into the same requests as every other format' -TestCases @(
            @{ Name = 'a JSON array'; File = 'same.json'; Content = '[ { "id": "a", "method": "POST", "uri": "BASE/echo?id=a", "headers": { "X-N": "1" }, "body": {"n":1} }, { "id": "b", "uri": "BASE/echo?id=b" } ]' }
            @{ Name = 'a JSON object with shared defaults'; File = 'shared.json'; Content = '{ "requests": [ { "id": "a", "method": "POST", "uri": "echo?id=a", "body": {"n":1} }, { "id": "b", "uri": "echo?id=b", "headers": {} } ], "baseUri": "BASE/", "headers": { "X-N": "1" } }'; Note = 'b gets X-N too' }
            @{ Name = 'NDJSON'; File = 'same.ndjson'; Content = "{ `"id`": `"a`", `"method`": `"POST`", `"url`": `"BASE/echo?id=a`", `"headers`": { `"X-N`": `"1`" }, `"body`": {`"n`":1} }`n`n{ `"id`": `"b`", `"uri`": `"BASE/echo?id=b`" }`n" }
            @{ Name = 'JSON Lines'; File = 'same.jsonl'; Content = "{ `"id`": `"a`", `"method`": `"POST`", `"uri`": `"BASE/echo?id=a`", `"headers`": { `"X-N`": `"1`" }, `"body`": `"{\`"n\`":1}`", `"contentType`": `"application/json`" }`r`n{ `"id`": `"b`", `"uri`": `"BASE/echo?id=b`" }" }
            @{ Name = 'CSV'; File = 'same.csv'; Content = "Id,Method,Uri,Header.X-N,Body,ContentType`r`na,POST,BASE/echo?id=a,1,`"{`"`"n`"`":1}`",application/json`r`nb,,BASE/echo?id=b,,,`r`n" }
            @{ Name = 'a .http file'; File = 'same.http'; Content = "@server = BASE`n`n# @name a`nPOST {{server}}/echo?id=a`nX-N: 1`nContent-Type: application/json`n`n{`"n`":1}`n`n###`n// @name b`nGET {{server}}/echo?id=b HTTP/1.1`n" }
            @{ Name = 'a .rest file'; File = 'same.rest'; Content = "# @name a`nPOST BASE/echo?id=a`nX-N: 1`nContent-Type: application/json`n`n{`"n`":1}`n###`n# @name b`nBASE/echo?id=b`n" }
        ) {
            param($File, $Content, $Note)
            $path = Write-TextFile $File $Content
            $expected = if ($Note) { $Expected[0], "b|GET|$Base/echo?id=b|X-N=1||" } else { $Expected }

            Import-RequestFile $path | Get-Shape | Should -Be $expected
        }

        It 'fills a CSV row into -UriTemplate and -BodyTemplate, encoded for where each value goes' {
            $path = Write-TextFile 'users.csv' "UserId,Name,Method`r`n7,`"Ann `"`"A/B`"`"`",POST`r`n"

            $record = Import-RequestFile $path -UriTemplate "$Base/users/{UserId}?name={Name}" -BodyTemplate '{ "id": {UserId}, "name": "{Name}" }'

            $record.Uri.AbsoluteUri | Should -Be "$Base/users/7?name=Ann%20%22A%2FB%22"
            $record.Body | Should -Be '{ "id": 7, "name": "Ann \"A/B\"" }'
            ($record.Body | ConvertFrom-Json).name | Should -Be 'Ann "A/B"'
            $record.ContentType | Should -Be 'application/json'
            $record.Id | Should -Be 'users.csv#1'
        }

        It 'sends a .http request with its headers and body as written' {
            $path = Write-TextFile 'send.http' "@token = t-1`nPUT BASE/echo?id=h1`nAuthorization: Bearer {{token}}`nContent-Type: text/plain`n`nline one`nline two`n"

            # A secret header over plain http needs the same permission as -Token.
            $result = Import-RequestFile $path | Invoke-BatchRequest -AllowUnencryptedAuthentication

            $echo = $result.Content | ConvertFrom-Json
            $echo.method | Should -Be 'PUT'
            $echo.body | Should -Be "line one`nline two"
            $echo.headers.'Content-Type' | Should -Be 'text/plain'
            (Get-TestServerLedger $Server).authorization | Should -Be 'Bearer t-1'
        }

        It 'reads UTF-16 written by Out-File -Encoding <Encoding>' -TestCases @(
            @{ Encoding = 'unicode' }
            @{ Encoding = 'bigendianunicode' }
            @{ Encoding = 'utf8BOM' }
        ) {
            param($Encoding)
            $records = @(
                [ordered]@{ id = 'é-1'; method = 'POST'; uri = "$Base/echo?id=1"; body = 'žluťoučký kůň' }
                [ordered]@{ id = 'é-2'; uri = "$Base/echo?id=2" }
            )
            $json = Join-Path $Work "wide-$Encoding.json"
            ConvertTo-Json -InputObject $records | Out-File -LiteralPath $json -Encoding $Encoding
            $csv = Join-Path $Work "wide-$Encoding.csv"
            $records | ForEach-Object { [pscustomobject]$_ } | Select-Object id, method, uri, body |
                ConvertTo-Csv | Out-File -LiteralPath $csv -Encoding $Encoding

            $fromJson = Import-RequestFile $json | Get-Shape
            $fromCsv = Import-RequestFile $csv | Get-Shape

            $fromJson | Should -Be @("é-1|POST|$Base/echo?id=1||žluťoučký kůň|", "é-2|GET|$Base/echo?id=2|||")
            $fromCsv | Should -Be $fromJson
        }

        It 'takes -Format over the extension' {
            $path = Write-TextFile 'requests.txt' "{ `"uri`": `"BASE/echo`" }`n"
            { Import-RequestFile $path } | Should -Throw -ErrorId "RequestFileFormatUnknown,$Command"
            (Import-RequestFile $path -Format Ndjson).Id | Should -Be 'requests.txt#1'
        }

        It 'completes -Format with the format names' {
            $line = 'Import-RequestFile -Format '
            $completions = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
            $completions | Sort-Object | Should -Be @('Csv', 'Http', 'Json', 'Ndjson')

            $line = 'Import-RequestFile -Format nd'
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'Ndjson'
        }
    }

    Context 'paths' {
        It 'reads several files in order through wildcards and from Get-ChildItem' {
            $null = New-RequestFile -Path (Join-Path $Work 'part1.json') -Records @(@{ id = 'p1'; uri = 'http://127.0.0.1:9/1' })
            $null = New-RequestFile -Path (Join-Path $Work 'part2.json') -Records @(@{ id = 'p2'; uri = 'http://127.0.0.1:9/2' })

            (Import-RequestFile (Join-Path $Work 'part?.json')).Id | Should -Be @('p1', 'p2')
            (Get-ChildItem (Join-Path $Work 'part*.json') | Sort-Object Name | Import-RequestFile).Id | Should -Be @('p1', 'p2')
            (Import-RequestFile -LiteralPath (Join-Path $Work 'part1.json')).Id | Should -Be 'p1'
        }

        It 'resolves relative URIs against -BaseUri' {
            $file = New-RequestFile -Path (Join-Path $Work 'relative.json') -Records @(@{ uri = 'users/7' })
            (Import-RequestFile $file -BaseUri 'https://api.example/v1/').Uri.AbsoluteUri | Should -Be 'https://api.example/v1/users/7'
        }

        It 'stops with <ErrorId> for <Name>' -TestCases @(
            @{ Name = 'a missing file'; Path = 'nope.json'; ErrorId = 'RequestFileNotFound' }
            @{ Name = 'a wildcard that matches nothing'; Path = 'nothing-*.json'; ErrorId = 'RequestFileNotFound' }
            @{ Name = 'a directory'; Path = '.'; ErrorId = 'RequestFileIsDirectory' }
        ) {
            param($Path, $ErrorId)
            { Import-RequestFile (Join-Path $Work $Path) } | Should -Throw -ErrorId "$ErrorId,$Command"
        }

        It 'refuses templates for files that are not CSV' {
            $file = New-RequestFile -Path (Join-Path $Work 'template.json') -Records @(@{ uri = 'http://h/' })
            { Import-RequestFile $file -UriTemplate 'http://h/{Id}' } | Should -Throw -ErrorId "TemplateNeedsCsv,$Command"
        }
    }

    Context 'bad input' {
        It 'stops with <ErrorId> for <Name>, sending nothing' -TestCases @(
            @{ Name = 'truncated JSON'; File = 'truncated.json'; Content = '[ { "uri": "BASE/echo?id=ok" }, { "uri": '; ErrorId = 'RequestFileMalformed' }
            @{ Name = 'a comment in JSON'; File = 'comment.json'; Content = "[ { `"uri`": `"BASE/echo?id=ok`" },`n// no comments`n{ `"uri`": `"BASE/echo?id=ok2`" } ]"; ErrorId = 'RequestFileMalformed' }
            @{ Name = 'a trailing comma'; File = 'comma.json'; Content = '[ { "uri": "BASE/echo?id=ok" }, ]'; ErrorId = 'RequestFileMalformed' }
            @{ Name = 'invalid UTF-8'; File = 'bytes.json'; Bytes = [byte[]](0x5B, 0x7B, 0x22, 0x75, 0x72, 0x69, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D, 0x5D); ErrorId = 'RequestFileMalformed' }
            @{ Name = 'UTF-16 without a byte order mark'; File = 'nobom.json'; Bytes = [Text.Encoding]::Unicode.GetBytes('[{"uri":"http://h/"}]'); ErrorId = 'RequestFileMalformed' }
            @{ Name = 'a string at the top'; File = 'shape.json'; Content = '"BASE/echo?id=ok"'; ErrorId = 'RequestFileWrongShape' }
            @{ Name = 'an empty file'; File = 'empty.json'; Content = ''; ErrorId = 'RequestFileEmpty' }
            @{ Name = 'a record that is not an object'; File = 'number.json'; Content = '[ { "uri": "BASE/echo?id=ok" }, 42 ]'; ErrorId = 'RequestNotAnObject' }
            @{ Name = 'a record without uri'; File = 'nouri.json'; Content = '[ { "uri": "BASE/echo?id=ok" }, { "method": "GET" } ]'; ErrorId = 'RequestMissingUri' }
            @{ Name = 'a uri that is not a string'; File = 'uritype.json'; Content = '[ { "uri": "BASE/echo?id=ok" }, { "uri": 5 } ]'; ErrorId = 'RequestInvalidProperty' }
            @{ Name = 'a relative uri without -BaseUri'; File = 'relative.ndjson'; Content = "{`"uri`":`"BASE/echo?id=ok`"}`n{`"uri`":`"users/7`"}"; ErrorId = 'RequestInvalidUri' }
            @{ Name = 'a scheme other than http'; File = 'ftp.json'; Content = '[ { "uri": "BASE/echo?id=ok" }, { "uri": "ftp://h/file" } ]'; ErrorId = 'RequestInvalidUri' }
            @{ Name = 'a user name in the uri'; File = 'userinfo.json'; Content = '[ { "uri": "BASE/echo?id=ok" }, { "uri": "http://user:s3cr3t@h/" } ]'; ErrorId = 'RequestInvalidUri' }
            @{ Name = 'an invalid method'; File = 'method.json'; Content = '[ { "uri": "BASE/echo?id=ok" }, { "uri": "BASE/echo", "method": "GE T" } ]'; ErrorId = 'RequestInvalidMethod' }
            @{ Name = 'a line break in a header'; File = 'crlf.json'; Content = '[ { "uri": "BASE/echo?id=ok" }, { "uri": "BASE/echo", "headers": { "X-A": "1\r\nX-B: 2" } } ]'; ErrorId = 'RequestInvalidHeader' }
            @{ Name = 'an unknown property'; File = 'unknown.json'; Content = '[ { "uri": "BASE/echo?id=ok" }, { "urll": "BASE/echo" } ]'; ErrorId = 'RequestUnknownProperty' }
            @{ Name = 'a repeated property'; File = 'repeated.json'; Content = '[ { "uri": "BASE/echo?id=ok" }, { "uri": "BASE/echo", "url": "BASE/echo" } ]'; ErrorId = 'RequestDuplicateProperty' }
            @{ Name = 'a repeated id'; File = 'dupid.ndjson'; Content = "{`"id`":`"x`",`"uri`":`"BASE/echo?id=ok`"}`n{`"id`":`"x`",`"uri`":`"BASE/echo?id=ok2`"}"; ErrorId = 'RequestDuplicateId' }
            @{ Name = 'a body on GET'; File = 'getbody.json'; Content = '[ { "uri": "BASE/echo?id=ok" }, { "uri": "BASE/echo", "body": "x" } ]'; ErrorId = 'RequestBodyNotAllowed' }
            @{ Name = 'an unknown CSV column'; File = 'columns.csv'; Content = "Id,Uri,Methd`nok,BASE/echo?id=ok,GET`n"; ErrorId = 'RequestUnknownProperty' }
            @{ Name = 'a stray quote in CSV'; File = 'quote.csv'; Content = "Id,Uri`nok,BASE/echo?id=ok`nbad,BASE/ec`"ho`n"; ErrorId = 'RequestFileMalformed' }
            @{ Name = 'an undefined .http variable'; File = 'vars.http'; Content = "GET BASE/echo?id=ok`n###`nGET {{host}}/echo`n"; ErrorId = 'RequestUndefinedVariable' }
        ) {
            param($File, $Content, $Bytes, $ErrorId)
            $path = Join-Path $Work $File
            if ($Bytes) { [IO.File]::WriteAllBytes($path, $Bytes) } else { $path = Write-TextFile $File $Content }

            $run = Invoke-Import @{ Path = $path } -Send

            $run.Caught.FullyQualifiedErrorId | Should -Be "$ErrorId,$Command"
            $run.Caught.CategoryInfo.Category | Should -Be 'InvalidData'
            $run.Reported + $run.Caught | ForEach-Object { $_.Exception.Message | Should -Match ([regex]::Escape($File)) }
            $run.Emitted | Should -BeNullOrEmpty
            Get-TestServerLedger $Server | Should -BeNullOrEmpty
        }

        It 'reports each invalid record with file, record number, id, line and column' {
            $path = Write-TextFile 'two-bad.json' "[`n  { `"id`": `"ok`", `"uri`": `"BASE/echo?id=ok`" },`n  { `"id`": `"r2`" },`n  { `"id`": `"r3`", `"uri`": `"ftp://h/`" }`n]"

            $run = Invoke-Import @{ Path = $path }

            $run.Reported.Count | Should -Be 2
            $run.Reported[0].FullyQualifiedErrorId | Should -Be "RequestMissingUri,$Command"
            $run.Reported[0].CategoryInfo.Category | Should -Be 'InvalidData'
            $run.Reported[0].TargetObject | Should -Be $path
            $run.Reported[0].Exception.Message | Should -Be "$path, record 2 (id 'r2', line 3, column 3): the record has no 'uri'."
            $run.Reported[1].FullyQualifiedErrorId | Should -Be "RequestInvalidUri,$Command"
            $run.Reported[1].Exception.Message | Should -BeLike "*record 3 (id 'r3', line 4, column 3)*"
            $run.Caught.FullyQualifiedErrorId | Should -Be "RequestMissingUri,$Command"
            $run.Caught.Exception.Message | Should -BeLike '2 invalid record(s)*nothing was emitted*'
            $run.Emitted | Should -BeNullOrEmpty
        }

        It 'emits nothing from any file when a later file of the batch is invalid' {
            $good = Write-TextFile 'good.ndjson' "{`"uri`":`"BASE/echo?id=good`"}`n"
            $bad = Write-TextFile 'bad.ndjson' "{`"uri`":`"BASE/echo?id=bad`"}`n{`"method`":`"GET`"}`n"

            { Import-RequestFile $good, $bad -ErrorAction SilentlyContinue | Invoke-BatchRequest } | Should -Throw -ErrorId "RequestMissingUri,$Command"

            Get-TestServerLedger $Server | Should -BeNullOrEmpty
        }

        It 'finds a repeated id across the files of one batch' {
            $first = Write-TextFile 'one.ndjson' "{`"id`":`"same`",`"uri`":`"BASE/echo`"}`n"
            $second = Write-TextFile 'two.ndjson' "{`"id`":`"same`",`"uri`":`"BASE/echo`"}`n"
            { Import-RequestFile $first, $second -ErrorAction SilentlyContinue } | Should -Throw -ErrorId "RequestDuplicateId,$Command"
        }

        It 'reports at most 100 record problems, then stops' {
            $lines = @('{"uri":"BASE/echo?id=ok"}') + (1..150 | ForEach-Object { '{"method":"GET"}' })
            $path = Write-TextFile 'many.ndjson' ($lines -join "`n")

            $run = Invoke-Import @{ Path = $path }

            $run.Reported.Count | Should -Be 100
            $run.Caught.FullyQualifiedErrorId | Should -Be "RequestMissingUri,$Command"
            $run.Caught.Exception.Message | Should -BeLike 'At least 100 invalid records*'
        }

        It 'never puts header or body values in a message' {
            $path = Write-TextFile 'secrets.json' '[ { "uri": "BASE/echo", "headers": { "Authorization": "Bearer s3cr3t-h\r\n" } }, { "uri": "BASE/echo", "body": "s3cr3t-b" }, { "uri": "http://u:s3cr3t-p@h/" } ]'

            $run = Invoke-Import @{ Path = $path }

            $run.Reported.Count | Should -Be 3
            $run.Reported + $run.Caught | ForEach-Object { $_.Exception.Message | Should -Not -Match 's3cr3t' }
        }

        It 'sends exactly the valid records with -SkipInvalid and reports the others' {
            $path = Write-TextFile 'mixed.ndjson' (@(
                    '{"id":"v1","uri":"BASE/echo?id=v1"}'
                    '{"id":"bad-uri"}'
                    '{"id":"v2","method":"POST","uri":"BASE/echo?id=v2","body":{"n":2}}'
                    '{"id":"v1","uri":"BASE/echo?id=again"}'
                    '{"id":"bad-method","method":"GE T","uri":"BASE/echo?id=bad-method"}'
                    '{"id":"v3","uri":"BASE/echo?id=v3"}'
                ) -join "`n")

            $run = Invoke-Import @{ Path = $path; SkipInvalid = $true } -Send

            $run.Caught | Should -BeNullOrEmpty
            $run.Emitted.Count | Should -Be 3
            (Get-TestServerLedger $Server).id | Sort-Object | Should -Be @('v1', 'v2', 'v3')
            $run.Reported.FullyQualifiedErrorId | Should -Be @("RequestMissingUri,$Command", "RequestDuplicateId,$Command", "RequestInvalidMethod,$Command")
        }

        It 'still sends nothing with -SkipInvalid when the file itself is broken' {
            $path = Write-TextFile 'broken-late.json' '[ { "uri": "BASE/echo?id=early" }, { "uri": "BASE/echo?id=late" '
            { Import-RequestFile $path -SkipInvalid | Invoke-BatchRequest } | Should -Throw -ErrorId "RequestFileMalformed,$Command"
            Get-TestServerLedger $Server | Should -BeNullOrEmpty
        }
    }

    Context 'partitions' {
        It 'splits a batch into 8 parts that together hold every record exactly once' {
            $path = Write-TextFile 'split.ndjson' ((1..200 | ForEach-Object { "{`"uri`":`"BASE/echo?n=$_`"}" }) -join "`n")

            $ids = foreach ($k in 1..8) { (Import-RequestFile $path -Partition "$k/8").Id }

            $ids.Count | Should -Be 200
            $ids | Sort-Object -Unique | Should -Be (1..200 | ForEach-Object { "split.ndjson#$_" } | Sort-Object)
            (Import-RequestFile $path -Partition 3/8).Id | Should -Be (Import-RequestFile $path -Partition 3/8).Id
        }

        It 'rejects the partition <Partition>' -TestCases @(
            @{ Partition = '9/8' }
            @{ Partition = '0/8' }
            @{ Partition = '3-8' }
            @{ Partition = 'all' }
        ) {
            param($Partition)
            $path = Write-TextFile 'p.ndjson' '{"uri":"BASE/echo"}'
            { Import-RequestFile $path -Partition $Partition } | Should -Throw -ErrorId "InvalidPartition,$Command"
        }
    }

    It 'stops with RequestFileChanged and emits nothing unchecked when the file grows while it is read' {
        $path = Write-TextFile 'growing.ndjson' "{`"id`":`"r1`",`"uri`":`"http://127.0.0.1:9/a`"}`n{`"id`":`"r2`",`"uri`":`"http://127.0.0.1:9/b`"}`n"
        $script:appended = $false
        $emitted = [Collections.Generic.List[string]]::new()

        {
            Import-RequestFile $path | ForEach-Object {
                if (-not $script:appended) {
                    $script:appended = $true
                    Add-Content -LiteralPath $path -Value '{"id":"r1","method":"DELETE","uri":"http://127.0.0.1:9/dup"}', '{"id":"r9","uri":"http://127.0.0.1:9/new"}'
                }
                $emitted.Add("$($_.Id) $($_.Method)")
            }
        } | Should -Throw -ErrorId 'RequestFileChanged,BatchRequest.Commands.ImportRequestFileCommand'

        $emitted | Should -Not -Contain 'r1 DELETE'
        $emitted | Should -Not -Contain 'r9 GET'
    }
}


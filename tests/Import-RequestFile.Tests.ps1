BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "batchrequest-$([guid]::NewGuid())")).FullName
}

AfterAll {
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'Import-RequestFile' {
    It 'streams the records of a JSON array with their defaults' {
        $file = New-RequestFile -Path (Join-Path $Work 'orders.json') -Records @(
            @{ id = 'a'; uri = 'http://127.0.0.1:9/a' }
            @{ method = 'post'; uri = 'http://127.0.0.1:9/b'; headers = @{ 'X-Trace' = '7' }; body = @{ n = 1 } }
        )

        $records = Import-RequestFile $file

        $records.Count | Should -Be 2
        $records[0].Id | Should -Be 'a'
        $records[0].Method | Should -Be 'GET'
        $records[1].Id | Should -Be 'orders.json#2'
        $records[1].Method | Should -Be 'POST'
        $records[1].Headers['X-Trace'] | Should -Be '7'
        $records[1].ContentType | Should -Be 'application/json'
        ($records[1].Body | ConvertFrom-Json).n | Should -Be 1
    }

    It 'reads several files in order through wildcards and from Get-ChildItem' {
        $null = New-RequestFile -Path (Join-Path $Work 'part1.json') -Records @(@{ id = 'p1'; uri = 'http://127.0.0.1:9/1' })
        $null = New-RequestFile -Path (Join-Path $Work 'part2.json') -Records @(@{ id = 'p2'; uri = 'http://127.0.0.1:9/2' })

        (Import-RequestFile (Join-Path $Work 'part?.json')).Id | Should -Be @('p1', 'p2')
        (Get-ChildItem (Join-Path $Work 'part*.json') | Sort-Object Name | Import-RequestFile).Id | Should -Be @('p1', 'p2')
    }

    It 'resolves relative URIs against -BaseUri' {
        $file = New-RequestFile -Path (Join-Path $Work 'relative.json') -Records @(@{ uri = 'users/7' })
        (Import-RequestFile $file -BaseUri 'https://api.example/v1/').Uri.AbsoluteUri | Should -Be 'https://api.example/v1/users/7'
    }

    It 'stops with <ErrorId> for <Name>' -TestCases @(
        @{ Name = 'malformed JSON'; Content = '[ { "uri": "http://h/" }, '; ErrorId = 'RequestFileMalformed' }
        @{ Name = 'an object at the top'; Content = '{ "uri": "http://h/" }'; ErrorId = 'RequestFileWrongShape' }
        @{ Name = 'an empty file'; Content = ''; ErrorId = 'RequestFileEmpty' }
        @{ Name = 'a record without uri'; Content = '[ { "method": "GET" } ]'; ErrorId = 'RequestMissingUri' }
    ) {
        param($Content, $ErrorId)
        $file = Join-Path $Work 'bad.json'
        Set-Content -LiteralPath $file -Value $Content -NoNewline
        { Import-RequestFile $file } | Should -Throw -ErrorId "$ErrorId,BatchRequest.Commands.ImportRequestFileCommand"
    }

    It 'stops with RequestFileNotFound for a missing file' {
        { Import-RequestFile -LiteralPath (Join-Path $Work 'nope.json') } |
            Should -Throw -ErrorId 'RequestFileNotFound,BatchRequest.Commands.ImportRequestFileCommand'
    }
}

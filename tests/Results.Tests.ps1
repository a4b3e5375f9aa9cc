BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $script:Server = Start-TestServer
    $script:Base = $Server.BaseUri
    $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "batchrequest-$([guid]::NewGuid())")).FullName

    # One result of each kind: a JSON answer, a definite failure, and a record a rule kept from leaving.
    $file = New-RequestFile -Path (Join-Path $Work 'mixed.json') -Records @(
        @{ id = 'ok'; uri = "$($Base)status/200?id=ok" }
        @{ id = 'missing'; uri = "$($Base)status/404?id=missing" }
        @{ id = 'elsewhere'; uri = "$($Server.SecondBaseUri)status/200?id=elsewhere" }
    )
    $script:Results = @(Import-RequestFile $file |
            Invoke-BatchRequest -Ordered -AllowedHost "127.0.0.1:$($Base.Port)" -ErrorAction SilentlyContinue)
}

AfterAll {
    Stop-TestServer $Server
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'The result object' {
    It 'has one result of each kind to look at' {
        $Results.Status | Should -Be @('Succeeded', 'Failed', 'NotSent')
    }

    It 'round-trips through Export-Csv with Id first and no type name or object in any cell' {
        $csv = Join-Path $Work 'results.csv'
        $Results | Export-Csv -LiteralPath $csv

        $rows = @(Import-Csv -LiteralPath $csv)
        $rows.Count | Should -Be 3
        $rows[0].PSObject.Properties.Name[0] | Should -Be 'Id'
        $rows[0].PSObject.Properties.Name | Should -Not -Contain 'Data'
        foreach ($row in $rows) {
            foreach ($cell in $row.PSObject.Properties) {
                "$($cell.Value)" | Should -Not -Match '(^|\W)(System|BatchRequest)\.[A-Z]|@\{|^\d\d:\d\d:\d\d\.\d{7}$' -Because "$($row.Id).$($cell.Name) is '$($cell.Value)'"
            }
        }
        $rows.Status | Should -Be @('Succeeded', 'Failed', 'NotSent')
        $rows.ErrorKind | Should -Be @('None', 'HttpStatus', 'HostNotAllowed')
        $rows[0].StatusCode | Should -Be '200'
        [double]::Parse($rows[0].DurationMs, [Globalization.CultureInfo]::InvariantCulture) | Should -BeGreaterThan 0
        $rows[0].Request | Should -Be "GET $($Base)status/200?id=ok"
        $rows[0].Headers -split "`n" | Should -Contain 'Content-Type: application/json; charset=utf-8'
        $rows[0].Content | Should -Be '{"status":200}'
    }

    It 'names the status and the error kind in plain ConvertTo-Json, and gives the duration as a number' {
        $json = $Results | ConvertTo-Json
        $back = @($json | ConvertFrom-Json)

        $back.Status | Should -Be @('Succeeded', 'Failed', 'NotSent')
        $back.ErrorKind | Should -Be @('None', 'HttpStatus', 'HostNotAllowed')
        $back[0].DurationMs | Should -BeOfType [double]
        $back[0].Headers.'Content-Type' | Should -Be 'application/json; charset=utf-8'
        $json | Should -Not -Match '"Ticks"|"Data"'
    }

    It 'keeps every result under Where-Object Status, and every journal line with a status' {
        $journal = Join-Path $Work 'kept.journal.ndjson'
        $file = New-RequestFile -Path (Join-Path $Work 'kept.json') -Records @(@{ id = 'k1'; uri = "$($Base)status/200?id=k1" })
        $null = Import-RequestFile $file | Invoke-BatchRequest -JournalPath $journal

        @($Results | Where-Object Status).Count | Should -Be 3
        $outcomes = @(Import-BatchJournal $journal | Where-Object Event -EQ Result)
        $outcomes.Count | Should -Be 1
        @($outcomes | Where-Object Status).Count | Should -Be 1
    }

    It 'gives a JSON body as objects in Data, parsed on the first read and kept, so edits stick' {
        $ok = $Results[0]
        $ok.Data.status | Should -Be 200
        [object]::ReferenceEquals($ok.Data, $ok.Data) | Should -BeTrue

        $ok.Data.status = 999
        $ok.Data | Add-Member -NotePropertyName seen -NotePropertyValue $true
        $ok.Data.status | Should -Be 999
        $ok.Data.seen | Should -BeTrue
        $ok.Content | Should -Be '{"status":200}'

        $Results[2].Data | Should -BeNullOrEmpty
        ($ok | Get-Member -Name Data -Force).MemberType | Should -Be 'CodeProperty'
    }

    It 'shows a table whose headers are property names' {
        $table = ($Results | Format-Table | Out-String -Width 200) -split "`n" | Where-Object { $_.Trim() }
        $headers = $table[0].Trim() -split '\s+'

        $headers | Should -Be @('Id', 'Status', 'StatusCode', 'Attempts', 'DurationMs', 'Uri')
        foreach ($name in $headers) { $Results[0].PSObject.Properties[$name] | Should -Not -BeNullOrEmpty }
    }
}

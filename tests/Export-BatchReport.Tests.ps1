# Export-BatchReport: the counts of a real batch, the runs of a killed and resumed journal, masking, a page that
# needs nothing outside itself, and headless Chromium drawing its charts.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $script:Server = Start-TestServer
    $script:Base = $Server.BaseUri
    $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "batchrequest-report-$([guid]::NewGuid())")).FullName

    function Get-ReportValue {
        <# The value of a row of the report's summary table, by its data-key; null when the row is absent. #>
        param([Parameter(Mandatory)] [string] $Html, [Parameter(Mandatory)] [string] $Key)
        $match = [regex]::Match($Html, "<tr data-key=""$([regex]::Escape($Key))""><th>[^<]*</th><td class=""n"">([^<]*)</td>")
        if ($match.Success) { [System.Net.WebUtility]::HtmlDecode($match.Groups[1].Value) -replace ',', '' }
    }

    # The mixed batch: successes, retried 503s, 404s that fail, and 429s whose Retry-After pauses the host.
    $records = @(
        foreach ($i in 1..20) { @{ id = "ok$i"; uri = "$($Base)delay/5?id=ok$i" } }
        foreach ($i in 1..4) { @{ id = "flaky$i"; uri = "$($Base)flaky/1/503?id=flaky$i" } }
        foreach ($i in 1..3) { @{ id = "missing$i"; uri = "$($Base)status/404?id=missing$i&api_key=TopSecretQuery$i" } }
        foreach ($i in 1..2) { @{ id = "paused$i"; uri = "$($Base)flaky/1/429?id=paused$i&retryAfter=1" } }
        @{ id = 'header'; uri = "$($Base)delay/1?id=header"; headers = @{ 'X-Api-Key' = 'TopSecretHeader' } }
    )
    $script:MixedFile = New-RequestFile -Path (Join-Path $Work 'mixed.json') -Records $records
    $script:MixedJournal = Join-Path $Work 'mixed.ndjson'
    $script:MixedResults = @(Import-RequestFile $MixedFile |
            Invoke-BatchRequest -ThrottleLimit 8 -AdaptiveThrottle -JournalPath $MixedJournal -AllowUnencryptedAuthentication -ErrorAction SilentlyContinue)
    $script:MixedReport = Join-Path $Work 'mixed.html'
    Export-BatchReport -JournalPath $MixedJournal -Path $MixedReport
    $script:MixedHtml = Get-Content -LiteralPath $MixedReport -Raw
}

AfterAll {
    Stop-TestServer $Server
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'Export-BatchReport of a mixed batch' {
    It 'counts each record''s final status and status code, the retries and the pause' {
        $MixedResults.Count | Should -Be 30
        Get-ReportValue $MixedHtml 'records' | Should -Be 30
        Get-ReportValue $MixedHtml 'status-Succeeded' | Should -Be 27
        Get-ReportValue $MixedHtml 'status-Failed' | Should -Be 3
        Get-ReportValue $MixedHtml 'code-200' | Should -Be 27
        Get-ReportValue $MixedHtml 'code-404' | Should -Be 3
        Get-ReportValue $MixedHtml 'retries' | Should -Be 6
        # Two 429s answered together make one pause, or two when the second came after the first had ended.
        Get-ReportValue $MixedHtml 'pauses' | Should -BeIn 1, 2
        [double]((Get-ReportValue $MixedHtml 'paused') -replace ' s$') | Should -BeGreaterOrEqual 0.9
        @(Import-BatchJournal -LiteralPath $MixedJournal | Where-Object Event -EQ 'Pause').Count | Should -BeGreaterThan 0
        @(Import-BatchJournal -LiteralPath $MixedJournal | Where-Object Event -EQ 'Retry').Count | Should -Be 6
    }

    It 'lists the failed records with method, status code and error, and none in the other tables' {
        foreach ($i in 1..3) { $MixedHtml | Should -Match "<tr class=""record""><td>missing$i</td><td>GET</td>" }
        $MixedHtml | Should -Match '<h2>Failed records \(3\)</h2>'
        $MixedHtml | Should -Match '<h2>OutcomeUnknown records \(0\)</h2>'
        $MixedHtml | Should -Match 'HTTP 404'
    }

    It 'holds charts: the timeline, the concurrency with its limit and pause, and the latency histogram' {
        foreach ($chart in 'throughput', 'concurrency', 'latency') {
            $MixedHtml | Should -Match "<div class=""chart"" id=""chart-$chart"">\s*<svg"
        }
        $MixedHtml | Should -Match 'limit of 127\.0\.0\.1'
        $MixedHtml | Should -Match 'host paused'
    }

    It 'masks query values and shows no header value' {
        $MixedHtml | Should -Not -Match 'TopSecret'
        $MixedHtml | Should -Match ([regex]::Escape('status/404?id=***&amp;api_key=***'))
    }

    It 'references nothing outside itself' {
        $MixedHtml | Should -Not -Match '(?i)\b(src|href)\s*='
        # url(#id) points into the page itself; anything else would leave it.
        $MixedHtml | Should -Not -Match '(?i)url\s*\(\s*[''"]?[^#\s''"]'
        $MixedHtml | Should -Not -Match '(?i)@import'
        $MixedHtml | Should -Not -Match '(?i)<(script|link|img|iframe|object|embed)\b'
    }

    It 'makes the same counts from the results piped in, without a journal' {
        $piped = Join-Path $Work 'piped.html'
        $file = $MixedResults | Export-BatchReport -LiteralPath $piped -PassThru
        $file.FullName | Should -Be $piped
        $html = Get-Content -LiteralPath $piped -Raw
        Get-ReportValue $html 'records' | Should -Be 30
        Get-ReportValue $html 'status-Failed' | Should -Be 3
        Get-ReportValue $html 'retries' | Should -Be 6
        $html | Should -Not -Match 'TopSecret'
    }

    It 'refuses <Name> with <ErrorId>' -TestCases @(
        @{ Name = 'a journal and piped results together'; ErrorId = 'ReportSourceConflict'; Piped = $true; Journal = 'mixed.ndjson' }
        @{ Name = 'no source'; ErrorId = 'ReportSourceMissing'; Piped = $false; Journal = $null }
        @{ Name = 'a missing journal'; ErrorId = 'JournalNotFound'; Piped = $false; Journal = 'none.ndjson' }
    ) {
        param($ErrorId, $Piped, $Journal)
        $parameters = @{ Path = (Join-Path $Work 'refused.html') }
        if ($Journal) { $parameters.JournalPath = Join-Path $Work $Journal }
        $pipedIn = if ($Piped) { $MixedResults } else { @() }
        { $pipedIn | Export-BatchReport @parameters } | Should -Throw -ErrorId "$ErrorId,BatchRequest.Commands.ExportBatchReportCommand"
        Join-Path $Work 'refused.html' | Should -Not -Exist
    }
}

Describe 'Export-BatchReport of a killed and resumed batch' {
    BeforeAll {
        Reset-TestServer $Server
        $killed = Invoke-KilledBatch -Server $Server -Folder $Work -Name 'kr' -Count 1000 -KillAfter 400
        $script:Resumed = @(Import-RequestFile $killed.File |
                Invoke-BatchRequest -ThrottleLimit 40 -JournalPath $killed.Journal -Resume -ErrorAction SilentlyContinue)
        $script:Entries = @(Import-BatchJournal -LiteralPath $killed.Journal)
        $report = Join-Path $Work 'resumed.html'
        Export-BatchReport -JournalPath $killed.Journal -Path $report
        $script:ResumedHtml = Get-Content -LiteralPath $report -Raw
    }

    It 'shows both runs, the first with the sends it left in flight' {
        @($Entries | Where-Object Event -EQ 'Run').Count | Should -Be 2
        $firstRun = @($Entries | Select-Object -Skip 1 | ForEach-Object -Begin { $in = $true } -Process {
                if ($_.Event -eq 'Run') { $in = $false }; if ($in) { $_ } })
        $open = [Collections.Generic.HashSet[string]]::new()
        foreach ($entry in $firstRun) {
            if ($entry.Event -eq 'Sending') { $null = $open.Add($entry.Id) } elseif ($entry.Event -eq 'Result') { $null = $open.Remove($entry.Id) }
        }
        $open.Count | Should -BeGreaterThan 0

        $ResumedHtml | Should -Match '<h2>Runs of the journal \(2\)</h2>'
        $rows = [regex]::Matches($ResumedHtml, '<tr class="run" data-run="(\d)">.*?<td class="n">([\d,]+)</td></tr>')
        $rows.Count | Should -Be 2
        [int]($rows[0].Groups[2].Value -replace ',') | Should -Be $open.Count
        [int]($rows[1].Groups[2].Value -replace ',') | Should -Be 0
    }

    It 'gives each record one final outcome: the resumed run''s, or the first run''s success' {
        Get-ReportValue $ResumedHtml 'records' | Should -Be 1000
        $succeeded = @($Resumed | Where-Object Status -In 'Succeeded', 'Skipped').Count
        $unknown = @($Resumed | Where-Object Status -EQ 'OutcomeUnknown').Count
        $unknown | Should -BeGreaterThan 0
        $succeeded + $unknown | Should -Be 1000
        Get-ReportValue $ResumedHtml 'status-Succeeded' | Should -Be $succeeded
        Get-ReportValue $ResumedHtml 'status-OutcomeUnknown' | Should -Be $unknown
        Get-ReportValue $ResumedHtml 'no-outcome' | Should -Be $unknown
        $ResumedHtml | Should -Match "<h2>OutcomeUnknown records \($unknown\)</h2>"
        $ResumedHtml | Should -Match 'no outcome: in flight when run 1 stopped'
    }
}

Describe 'Export-BatchReport in a real browser' {
    BeforeAll {
        Add-Type -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;

public static class PngPixels
{
    // Counts the colours of an 8-bit RGB or RGBA PNG without interlace (what Chromium writes).
    public static Dictionary<int, int> Colors(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int width = 0, height = 0, channels = 0;
        var data = new MemoryStream();
        for (var at = 8; at < bytes.Length;)
        {
            var length = (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
            var type = System.Text.Encoding.ASCII.GetString(bytes, at + 4, 4);
            if (type == "IHDR")
            {
                width = (bytes[at + 8] << 24) | (bytes[at + 9] << 16) | (bytes[at + 10] << 8) | bytes[at + 11];
                height = (bytes[at + 12] << 24) | (bytes[at + 13] << 16) | (bytes[at + 14] << 8) | bytes[at + 15];
                if (bytes[at + 16] != 8 || bytes[at + 20] != 0) throw new InvalidDataException("not an 8-bit, non-interlaced PNG");
                channels = bytes[at + 17] == 6 ? 4 : bytes[at + 17] == 2 ? 3 : throw new InvalidDataException("not RGB or RGBA");
            }
            else if (type == "IDAT")
            {
                data.Write(bytes, at + 8, length);
            }
            at += length + 12;
        }

        data.Position = 0;
        var raw = new MemoryStream();
        using (var inflate = new ZLibStream(data, CompressionMode.Decompress)) inflate.CopyTo(raw);
        var pixels = raw.ToArray();
        var stride = width * channels;
        var previous = new byte[stride];
        var line = new byte[stride];
        var colors = new Dictionary<int, int>();
        for (var y = 0; y < height; y++)
        {
            var offset = y * (stride + 1);
            var filter = pixels[offset];
            for (var x = 0; x < stride; x++)
            {
                int left = x >= channels ? line[x - channels] : 0, up = previous[x], corner = x >= channels ? previous[x - channels] : 0;
                int value = pixels[offset + 1 + x];
                switch (filter)
                {
                    case 1: value += left; break;
                    case 2: value += up; break;
                    case 3: value += (left + up) / 2; break;
                    case 4:
                        int p = left + up - corner, pa = Math.Abs(p - left), pb = Math.Abs(p - up), pc = Math.Abs(p - corner);
                        value += pa <= pb && pa <= pc ? left : pb <= pc ? up : corner;
                        break;
                }
                line[x] = (byte)value;
            }

            for (var x = 0; x < stride; x += channels)
            {
                var color = (line[x] << 16) | (line[x + 1] << 8) | line[x + 2];
                colors[color] = colors.TryGetValue(color, out var count) ? count + 1 : 1;
            }

            (previous, line) = (line, previous);
        }

        return colors;
    }
}
'@
        # A copy of the report with a script that writes each chart's laid-out size into the DOM, for --dump-dom;
        # the report itself has no script.
        $script:Measured = Join-Path $Work 'measured.html'
        $probe = '<script>for (const svg of document.querySelectorAll("svg")) { const box = svg.getBoundingClientRect(); ' +
            'svg.setAttribute("data-laid-out", Math.round(box.width) + "x" + Math.round(box.height)); }</script>'
        Set-Content -LiteralPath $Measured -Encoding utf8NoBOM -Value ($MixedHtml -replace '</body>', "$probe</body>")
    }

    It 'lays out every chart with a size' {
        $dom = Invoke-TestChromium -Page $Measured -DumpDom
        $sizes = @([regex]::Matches($dom, '<svg[^>]*data-laid-out="(\d+)x(\d+)"') | ForEach-Object { , @([int]$_.Groups[1].Value, [int]$_.Groups[2].Value) })
        $sizes.Count | Should -Be 3
        foreach ($size in $sizes) {
            $size[0] | Should -BeGreaterThan 300
            $size[1] | Should -BeGreaterThan 150
        }
        ([regex]::Matches($dom, '<(path|polyline|rect|line)\b')).Count | Should -BeGreaterThan 50
    }

    It 'paints the charts: the screenshot is not blank and shows the series'' colour' {
        $png = Join-Path $Work 'report.png'
        Invoke-TestChromium -Page $MixedReport -Screenshot $png -Width 1100 -Height 1600
        $png | Should -Exist
        $colors = [PngPixels]::Colors($png)
        $total = ($colors.Values | Measure-Object -Sum).Sum
        $total | Should -Be (1100 * 1600)
        # A blank page is one colour; this one has text, tables and charts.
        $colors.Count | Should -BeGreaterThan 50
        ($colors.Values | Measure-Object -Maximum).Maximum / $total | Should -BeLessThan 0.97
        # The completions line and the histogram's bars are #1f77b4: only a drawn chart paints it.
        $colors[0x1f77b4] | Should -BeGreaterThan 200
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $script:Server = Start-TestServer
    $script:Base = $Server.BaseUri
    $script:Https = $Server.HttpsBaseUri
    $script:ProxyUser = [pscredential]::new('batch', (ConvertTo-SecureString ('p-' + [guid]::NewGuid().ToString('N')) -AsPlainText -Force))
    $script:Open = Start-TestTinyproxy
    $script:Guarded = Start-TestTinyproxy -Credential $ProxyUser
    $script:Token = 'T0ken-' + [guid]::NewGuid().ToString('N')
    $script:SecureToken = ConvertTo-SecureString $Token -AsPlainText -Force

    # The headers the origin's /echo received.
    function Get-EchoedHeaders($Result) { ($Result.Content | ConvertFrom-Json -AsHashtable).headers }
}

AfterAll {
    Stop-TestTinyproxy $Open
    Stop-TestTinyproxy $Guarded
    Stop-TestServer $Server
}

Describe 'Invoke-BatchRequest through a proxy' {
    BeforeEach {
        Reset-TestServer $Server
    }

    It 'sends an http record through -Proxy: the proxy logs it and the origin sees its Via header' {
        $result = New-BatchRequest -Uri "$($Base)echo?id=p1" | Invoke-BatchRequest -Proxy $Open.Uri

        $result.Status | Should -Be 'Succeeded'
        (Get-EchoedHeaders $result)['Via'] | Should -BeLike '*batchrequest-tinyproxy*'
        Get-TinyproxyRequestLine $Open | Should -Contain "GET $($Base)echo?id=p1 HTTP/1.1"
    }

    It 'answers a missing -ProxyCredential with the proxy''s 407, for an http and an https origin alike, without retrying' {
        $records = @(
            New-BatchRequest -Uri "$($Base)echo?id=m1"
            New-BatchRequest -Uri "$($Https)echo?id=m2"
        )
        $results = $records | Invoke-BatchRequest -Proxy $Guarded.Uri -SkipCertificateCheck -Ordered -ErrorAction SilentlyContinue -WarningAction SilentlyContinue

        foreach ($result in $results) {
            $result.Status | Should -Be 'Failed'
            $result.StatusCode | Should -Be 407
            $result.ErrorKind | Should -Be 'HttpStatus'
            $result.Attempts | Should -Be 1
        }
        (Get-TestServerStats $Server).served | Should -Be 0
    }

    It 'authenticates to the proxy with -ProxyCredential and never forwards Proxy-Authorization to the origin' {
        $result = New-BatchRequest -Uri "$($Base)echo?id=c1" | Invoke-BatchRequest -Proxy $Guarded.Uri -ProxyCredential $ProxyUser

        $result.Status | Should -Be 'Succeeded'
        $headers = Get-EchoedHeaders $result
        $headers['Via'] | Should -BeLike '*batchrequest-tinyproxy*'
        $headers.Keys | Should -Not -Contain 'Proxy-Authorization'
    }

    It 'never offers the origin''s -Token or -Credential to the proxy as Proxy-Authorization' {
        $basic = [pscredential]::new('origin-user', $ProxyUser.Password)
        $viaToken = New-BatchRequest -Uri "$($Https)echo?id=o1" |
            Invoke-BatchRequest -Proxy $Guarded.Uri -Token $SecureToken -SkipCertificateCheck -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $viaBasic = New-BatchRequest -Uri "$($Base)echo?id=o2" |
            Invoke-BatchRequest -Proxy $Guarded.Uri -Credential $basic -AllowUnencryptedAuthentication -ErrorAction SilentlyContinue

        $viaToken.StatusCode | Should -Be 407
        $viaBasic.StatusCode | Should -Be 407
        (Get-TestServerStats $Server).served | Should -Be 0
    }

    It 'tunnels an https record with CONNECT: the token reaches the origin inside TLS, the proxy sees only the tunnel' {
        $result = New-BatchRequest -Uri "$($Https)echo?id=s1" |
            Invoke-BatchRequest -Proxy $Guarded.Uri -ProxyCredential $ProxyUser -Token $SecureToken -SkipCertificateCheck -WarningAction SilentlyContinue

        $result.Status | Should -Be 'Succeeded'
        $headers = Get-EchoedHeaders $result
        $headers['Authorization'] | Should -Be "Bearer $Token"
        # A proxy that read the request would have added its Via header.
        $headers.Keys | Should -Not -Contain 'Via'
        $lines = @(Get-TinyproxyRequestLine $Guarded | Where-Object { $_ -like "*$($Https.Authority)*" })
        $lines | Should -Not -BeNullOrEmpty
        $lines | ForEach-Object { $_ | Should -Be "CONNECT $($Https.Authority) HTTP/1.1" }
        Get-Content -LiteralPath $Guarded.LogPath -Raw | Should -Not -Match $Token
    }

    It 'refuses a token for an http origin through a proxy, which would read it in clear' {
        $result = New-BatchRequest -Uri "$($Base)echo?id=h1" | Invoke-BatchRequest -Proxy $Open.Uri -Token $SecureToken -ErrorAction SilentlyContinue

        $result.Status | Should -Be 'NotSent'
        $result.ErrorKind | Should -Be 'InsecureAuthentication'
        Get-TinyproxyRequestLine $Open | Should -Not -Contain "GET $($Base)echo?id=h1 HTTP/1.1"
    }

    It 'uses the environment''s proxy (HTTP_PROXY, HTTPS_PROXY with credentials), which -NoProxy and NO_PROXY bypass' {
        # .NET reads the environment's proxy once per process: a child pwsh with the variables set.
        $plain = $ProxyUser.GetNetworkCredential()
        $proxyWithUser = "http://$($plain.UserName):$($plain.Password)@$($Guarded.Uri.Authority)"
        $child = Join-Path ([IO.Path]::GetTempPath()) "batchrequest-envproxy-$([guid]::NewGuid().ToString('N')).ps1"
        Set-Content -LiteralPath $child -Encoding utf8NoBOM -Value {
            param($Module, $Base, $Https)
            Import-Module $Module
            $records = @(
                New-BatchRequest -Uri "$($Base)echo?id=e1"
                New-BatchRequest -Uri "$($Https)echo?id=e2"
            )
            [pscustomobject]@{
                Proxied  = @($records | Invoke-BatchRequest -Ordered -SkipCertificateCheck -WarningAction SilentlyContinue | ForEach-Object { $_.Content })
                Direct   = @($records | Invoke-BatchRequest -Ordered -NoProxy -SkipCertificateCheck -WarningAction SilentlyContinue | ForEach-Object { $_.Content })
            } | ConvertTo-Json -Depth 3 -Compress
        }.ToString()
        $command = Get-PwshCommand
        $saved = $env:HTTP_PROXY, $env:HTTPS_PROXY, $env:NO_PROXY
        try {
            $env:HTTP_PROXY = $proxyWithUser
            $env:HTTPS_PROXY = $proxyWithUser
            $env:NO_PROXY = 'example.invalid'
            $withProxy = & $command[0] @($command | Select-Object -Skip 1) -NoProfile -NonInteractive -File $child (Get-BuiltModulePath) $Base $Https | ConvertFrom-Json
            $env:NO_PROXY = '127.0.0.1'
            $bypassed = & $command[0] @($command | Select-Object -Skip 1) -NoProfile -NonInteractive -File $child (Get-BuiltModulePath) $Base $Https | ConvertFrom-Json
        }
        finally {
            $env:HTTP_PROXY, $env:HTTPS_PROXY, $env:NO_PROXY = $saved
            Remove-Item -LiteralPath $child -ErrorAction Ignore
        }

        $headersOf = { param($content) ($content | ConvertFrom-Json -AsHashtable).headers }
        (& $headersOf $withProxy.Proxied[0])['Via'] | Should -BeLike '*batchrequest-tinyproxy*'
        (& $headersOf $withProxy.Proxied[0]).Keys | Should -Not -Contain 'Proxy-Authorization'
        $withProxy.Proxied[1] | Should -Not -BeNullOrEmpty
        Get-TinyproxyRequestLine $Guarded | Should -Contain "CONNECT $($Https.Authority) HTTP/1.1"
        foreach ($content in @($withProxy.Direct) + @($bypassed.Proxied) + @($bypassed.Direct)) {
            $content | Should -Not -BeNullOrEmpty
            (& $headersOf $content).Keys | Should -Not -Contain 'Via'
        }
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $script:Server = Start-TestServer
    $script:Asking = $Server.ClientCertificateBaseUri
    $script:OtherHttps = $Server.HttpsBaseUri
    $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "batchrequest-$([guid]::NewGuid())")).FullName

    # A self-signed client certificate with its private key, made for this run only.
    $key = [Security.Cryptography.RSA]::Create(2048)
    $request = [Security.Cryptography.X509Certificates.CertificateRequest]::new(
        'CN=BatchRequest test client', $key, [Security.Cryptography.HashAlgorithmName]::SHA256, [Security.Cryptography.RSASignaturePadding]::Pkcs1)
    $usage = [Security.Cryptography.OidCollection]::new()
    $null = $usage.Add([Security.Cryptography.Oid]::new('1.3.6.1.5.5.7.3.2'))
    $request.CertificateExtensions.Add([Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension]::new($usage, $false))
    $made = $request.CreateSelfSigned([DateTimeOffset]::UtcNow.AddDays(-1), [DateTimeOffset]::UtcNow.AddDays(1))
    # Reloaded from PKCS#12 so that the TLS stack can use its private key.
    $script:Certificate = [Security.Cryptography.X509Certificates.X509CertificateLoader]::LoadPkcs12($made.Export('Pfx'), $null)
    $made.Dispose()
    $key.Dispose()

    # The test server's own certificates are self-signed too: -SkipCertificateCheck, whose warning is expected.
    $script:Tls = @{ SkipCertificateCheck = $true; WarningAction = 'SilentlyContinue'; ErrorAction = 'SilentlyContinue' }

    function New-TestFile([object[]] $Records) {
        New-RequestFile -Path (Join-Path $Work "$([guid]::NewGuid()).json") -Records $Records
    }
}

AfterAll {
    Stop-TestServer $Server
    $Certificate.Dispose()
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'Invoke-BatchRequest -Certificate' {
    BeforeEach {
        Reset-TestServer $Server
    }

    It 'presents the certificate to a server that asks for one, which sees exactly that certificate' {
        $file = New-TestFile @(@{ id = 'c1'; uri = "$($Asking)echo?id=c1" }, @{ id = 'c2'; method = 'POST'; uri = "$($Asking)echo?id=c2"; body = '{}' })

        $results = Import-RequestFile $file | Invoke-BatchRequest -Certificate $Certificate @Tls

        $results.Status | Should -Be 'Succeeded', 'Succeeded'
        $arrivals = @(Get-TestServerLedger $Server)
        $arrivals.Count | Should -Be 2
        $arrivals.clientCertificate | Should -Be $Certificate.Thumbprint, $Certificate.Thumbprint
    }

    It 'gets no request through to a server that requires a certificate when none is given: ConnectionReset' {
        # Under TLS 1.3 the server asks after the handshake and closes the connection: to the client, a reset.
        $file = New-TestFile @(@{ id = 'c3'; uri = "$($Asking)echo?id=c3" })

        $result = Import-RequestFile $file | Invoke-BatchRequest -MaximumRetryCount 1 -RetryIntervalSec 0.01 @Tls

        $result.Status | Should -Be 'Failed'
        $result.ErrorKind | Should -Be 'ConnectionReset'
        $result.Attempts | Should -Be 2
        @(Get-TestServerLedger $Server).Count | Should -Be 0
    }

    It 'presents it again on a redirect to the same origin' {
        $target = "$($Asking)echo?id=c4"
        $file = New-TestFile @(@{ id = 'c4'; uri = "$($Asking)redirect/302?id=c4&to=$([uri]::EscapeDataString($target))" })

        $result = Import-RequestFile $file | Invoke-BatchRequest -Certificate $Certificate @Tls

        $result.Status | Should -Be 'Succeeded'
        $arrivals = @(Get-TestServerLedger $Server)
        $arrivals.path | Should -Be "/redirect/302?id=c4&to=$([uri]::EscapeDataString($target))", '/echo?id=c4'
        $arrivals.clientCertificate | Should -Be $Certificate.Thumbprint, $Certificate.Thumbprint
    }

    It 'never carries it across origins: a cross-origin redirect is refused even with -FollowCrossOriginRedirect' {
        $target = "$($OtherHttps)echo?id=c5"
        $file = New-TestFile @(@{ id = 'c5'; uri = "$($Asking)redirect/307?id=c5&to=$([uri]::EscapeDataString($target))" })

        $result = Import-RequestFile $file |
            Invoke-BatchRequest -Certificate $Certificate -FollowCrossOriginRedirect -ErrorVariable failures @Tls

        $result.Status | Should -Be 'Failed'
        $result.ErrorKind | Should -Be 'RedirectRefused'
        $failures[0].FullyQualifiedErrorId | Should -Be 'RequestRedirectRefused,BatchRequest.Commands.InvokeBatchRequestCommand'
        $failures[0].Exception.Message | Should -BeLike '*-Certificate*'
        $arrivals = @(Get-TestServerLedger $Server)
        $arrivals.host | Should -Be $Asking.Authority
        @($arrivals | Where-Object host -EQ $OtherHttps.Authority).Count | Should -Be 0
    }
}

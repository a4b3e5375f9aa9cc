BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module (Get-BuiltModulePath) -Force
    $script:Server = Start-TestServer
    $script:Base = $Server.BaseUri
    $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "batchrequest-$([guid]::NewGuid())")).FullName
    $script:Command = 'BatchRequest.Commands.InvokeBatchRequestCommand'

    # Runs one batch of a record with the given parameters; returns the terminating error, or $null.
    function Invoke-Refused([hashtable] $Parameters) {
        try {
            $null = @{ id = 'refused'; uri = "$($Base)echo?id=refused" } | Invoke-BatchRequest @Parameters -ErrorAction Stop
            $null
        }
        catch {
            $_
        }
    }
}

AfterAll {
    Stop-TestServer $Server
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'Invoke-BatchRequest refuses at binding' {
    BeforeEach {
        Reset-TestServer $Server
    }

    It 'refuses <Case> with <ErrorId>, before anything is sent' -TestCases @(
        @{ Case = 'a CR LF in a -Headers value'; ErrorId = 'HeaderValueInvalid'; Parameters = @{ Headers = @{ 'X-Tenant' = "contoso`r`nX-Injected: evil" } } }
        @{ Case = 'a lone LF in a -Headers value'; ErrorId = 'HeaderValueInvalid'; Parameters = @{ Headers = @{ 'X-Tenant' = "contoso`nX-Injected: evil" } } }
        @{ Case = 'a NUL in a -Headers value'; ErrorId = 'HeaderValueInvalid'; Parameters = @{ Headers = @{ 'X-Tenant' = "contoso`0" } } }
        @{ Case = 'an escape character in a -Headers value'; ErrorId = 'HeaderValueInvalid'; Parameters = @{ Headers = @{ 'X-Tenant' = "contoso$([char]27)[2J" } } }
        @{ Case = 'a CR LF in a -Headers name'; ErrorId = 'HeaderNameInvalid'; Parameters = @{ Headers = @{ "X-Tenant`r`nX-Injected" = 'evil' } } }
        @{ Case = 'a colon in a -Headers name'; ErrorId = 'HeaderNameInvalid'; Parameters = @{ Headers = @{ 'X-Tenant: evil' = 'x' } } }
        @{ Case = 'a space in a -Headers name'; ErrorId = 'HeaderNameInvalid'; Parameters = @{ Headers = @{ 'X Tenant' = 'x' } } }
        @{ Case = 'an empty -Headers name'; ErrorId = 'HeaderNameInvalid'; Parameters = @{ Headers = @{ '' = 'x' } } }
        @{ Case = 'a CR LF in -IdempotencyKeyHeader'; ErrorId = 'HeaderNameInvalid'; Parameters = @{ IdempotencyKeyHeader = "Idempotency-Key`r`nX-Injected: evil" } }
        @{ Case = 'a space in -IdempotencyKeyHeader'; ErrorId = 'HeaderNameInvalid'; Parameters = @{ IdempotencyKeyHeader = 'Idempotency Key' } }
        @{ Case = 'a CR LF in -SecretHeader'; ErrorId = 'HeaderNameInvalid'; Parameters = @{ SecretHeader = 'X-Ok', "X-Key`r`nX-Injected" } }
    ) {
        $refused = Invoke-Refused $Parameters

        $refused | Should -Not -BeNullOrEmpty
        $refused.FullyQualifiedErrorId | Should -Be "$ErrorId,$Command"
        $refused.CategoryInfo.Category | Should -Be 'InvalidArgument'
        # A refused value is never repeated: it may be a secret.
        $refused.Exception.Message | Should -Not -BeLike '*evil*'
        @(Get-TestServerLedger $Server).Count | Should -Be 0
        (Get-TestServerStats $Server).served | Should -Be 0
    }

    It 'still sends a tab inside a -Headers value' {
        $results = @{ id = 'ok'; uri = "$($Base)echo?id=ok" } |
            Invoke-BatchRequest -Headers @{ 'X-Tenant' = "a`tb" } -IdempotencyKeyHeader 'Idempotency-Key' -SecretHeader 'X-Api-Key'

        $results.Status | Should -Be 'Succeeded'
        @(Get-TestServerLedger $Server).Count | Should -Be 1
    }
}

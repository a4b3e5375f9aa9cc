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
        @{ Case = '-Token with -Credential'; ErrorId = 'TokenWithCredential'; Parameters = @{ Token = (ConvertTo-SecureString 't' -AsPlainText -Force); Credential = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force)) } }
        @{ Case = '-Token with -TokenProvider'; ErrorId = 'TokenWithTokenProvider'; Parameters = @{ Token = (ConvertTo-SecureString 't' -AsPlainText -Force); TokenProvider = { ConvertTo-SecureString 'p' -AsPlainText -Force } } }
        @{ Case = '-TokenProvider with -Credential'; ErrorId = 'TokenWithCredential'; Parameters = @{ TokenProvider = { ConvertTo-SecureString 'p' -AsPlainText -Force }; Credential = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force)) } }
        @{ Case = '-Proxy with -NoProxy'; ErrorId = 'ProxyWithNoProxy'; Parameters = @{ Proxy = 'http://127.0.0.1:9'; NoProxy = $true } }
        @{ Case = '-ProxyCredential without -Proxy'; ErrorId = 'ProxyCredentialWithoutProxy'; Parameters = @{ ProxyCredential = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force)) } }
        @{ Case = '-ProxyCredential with -NoProxy'; ErrorId = 'ProxyCredentialWithoutProxy'; Parameters = @{ ProxyCredential = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force)); NoProxy = $true } }
        @{ Case = '-UseDefaultCredentials with -Authentication Bearer'; ErrorId = 'DefaultCredentialsWithAuthentication'; Parameters = @{ UseDefaultCredentials = $true; Authentication = 'Bearer'; Token = (ConvertTo-SecureString 't' -AsPlainText -Force) } }
        @{ Case = '-UseDefaultCredentials with -Authentication OAuth'; ErrorId = 'DefaultCredentialsWithAuthentication'; Parameters = @{ UseDefaultCredentials = $true; Authentication = 'OAuth'; Token = (ConvertTo-SecureString 't' -AsPlainText -Force) } }
        @{ Case = '-UseDefaultCredentials with -Authentication Basic'; ErrorId = 'DefaultCredentialsWithAuthentication'; Parameters = @{ UseDefaultCredentials = $true; Authentication = 'Basic'; Credential = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force)) } }
        @{ Case = '-UseDefaultCredentials with -Token'; ErrorId = 'DefaultCredentialsWithAuthentication'; Parameters = @{ UseDefaultCredentials = $true; Token = (ConvertTo-SecureString 't' -AsPlainText -Force) } }
        @{ Case = '-UseDefaultCredentials with -Credential'; ErrorId = 'DefaultCredentialsWithAuthentication'; Parameters = @{ UseDefaultCredentials = $true; Credential = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force)) } }
        @{ Case = '-UseDefaultCredentials with -TokenProvider'; ErrorId = 'DefaultCredentialsWithAuthentication'; Parameters = @{ UseDefaultCredentials = $true; TokenProvider = { ConvertTo-SecureString 'p' -AsPlainText -Force } } }
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

    It 'does not run the -TokenProvider of a refused batch' {
        $script:providerCalls = 0
        $refused = Invoke-Refused @{ Token = (ConvertTo-SecureString 't' -AsPlainText -Force); TokenProvider = { $script:providerCalls++; ConvertTo-SecureString 'p' -AsPlainText -Force } }

        $refused.FullyQualifiedErrorId | Should -Be "TokenWithTokenProvider,$Command"
        $script:providerCalls | Should -Be 0
    }

    It 'still sends a tab inside a -Headers value and the allowed combinations' {
        $results = @{ id = 'ok'; uri = "$($Base)echo?id=ok" } |
            Invoke-BatchRequest -Headers @{ 'X-Tenant' = "a`tb" } -IdempotencyKeyHeader 'Idempotency-Key' -SecretHeader 'X-Api-Key' -NoProxy

        $results.Status | Should -Be 'Succeeded'
        @(Get-TestServerLedger $Server).Count | Should -Be 1
    }

    It 'refuses a -<Parameter> in a missing folder with JournalFolderMissing, naming the folder, before anything is sent' -TestCases @(
        @{ Parameter = 'JournalPath' }
        @{ Parameter = 'FailedPath' }
    ) {
        $folder = Join-Path $Work "missing-$([guid]::NewGuid())"
        $refused = Invoke-Refused @{ $Parameter = (Join-Path $folder 'run.ndjson') }

        $refused.FullyQualifiedErrorId | Should -Be "JournalFolderMissing,$Command"
        $refused.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $refused.Exception.Message | Should -BeLike "*$folder*"
        $refused.Exception.Message | Should -Not -BeLike '*.lock*'
        $refused.Exception.Message | Should -BeLike "*-$Parameter*"
        Test-Path -LiteralPath $folder | Should -BeFalse
        @(Get-TestServerLedger $Server).Count | Should -Be 0
    }

    It 'binds -HttpVersion <Given> as <Expected>' -TestCases @(
        @{ Given = 1; Expected = '1.0' }
        @{ Given = '1.0'; Expected = '1.0' }
        @{ Given = '1.1'; Expected = '1.1' }
        @{ Given = 2; Expected = '2.0' }
        @{ Given = '2'; Expected = '2.0' }
        @{ Given = '2.0'; Expected = '2.0' }
        @{ Given = 3; Expected = '3.0' }
        @{ Given = '3'; Expected = '3.0' }
        @{ Given = '3.0'; Expected = '3.0' }
        @{ Given = 2.0; Expected = '2.0' }
        @{ Given = [version]'2.0'; Expected = '2.0' }
    ) {
        $command = Get-Command Invoke-BatchRequest
        $parameter = $command.Parameters['HttpVersion']
        $transformed = $Given
        foreach ($attribute in $parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ArgumentTransformationAttribute] }) {
            $transformed = $attribute.Transform($ExecutionContext, $transformed)
        }
        $transformed | Should -BeOfType [version]
        $transformed | Should -Be ([version]$Expected)

        # Bound for real: the plain-http server answers over HTTP/1.1 whatever was asked for.
        $results = @{ id = 'v'; uri = "$($Base)echo?id=v" } | Invoke-BatchRequest -HttpVersion $Given
        $results.Status | Should -Be 'Succeeded'
    }

    It 'refuses -HttpVersion <Given> as a binding error' -TestCases @(
        @{ Given = 'two' }
        @{ Given = '4' }
        @{ Given = '1.2' }
    ) {
        { @{ uri = "$($Base)echo" } | Invoke-BatchRequest -HttpVersion $Given -ErrorAction Stop } |
            Should -Throw -ErrorId "ParameterArgumentTransformationError,$Command"
        @(Get-TestServerLedger $Server).Count | Should -Be 0
    }

    It 'still completes -HttpVersion' {
        $line = "Invoke-BatchRequest -HttpVersion "
        $completions = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $completions | Should -Be @('1.0', '1.1', '2.0', '3.0')
    }
}

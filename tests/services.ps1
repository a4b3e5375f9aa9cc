# Real servers the Pester tests start beside the loopback test server: a tool installer and an nginx harness.
# Defines functions only; dot-sourced by common.ps1.

function Find-TestTool {
    <# The full path of a command, also looked for in the sbin folders that a non-login PATH may lack; or nothing. #>
    param([Parameter(Mandatory)] [string] $Command)
    $found = Get-Command $Command -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if ($found) { return $found.Source }
    foreach ($folder in '/usr/local/sbin', '/usr/sbin', '/sbin') {
        $candidate = Join-Path $folder $Command
        if (Test-Path -LiteralPath $candidate -PathType Leaf) { return $candidate }
    }
}

function Install-TestTool {
    <#
    Returns the path of Command, installing the Debian Package with apt-get when it is missing and the process is
    root. Throws, naming the package, when it cannot: a test that needs a tool never skips for want of it.
    #>
    param(
        [Parameter(Mandatory)] [string] $Command,
        [Parameter(Mandatory)] [string] $Package
    )
    $path = Find-TestTool $Command
    if ($path) { return $path }

    $hint = "The tests need the command '$Command' from the Debian package '$Package': run 'apt-get install -y $Package' as root."
    $aptGet = Find-TestTool 'apt-get'
    if (-not $IsLinux -or -not $aptGet -or (& id -u) -ne '0') {
        throw "$hint This process cannot install it (it needs Linux with apt-get, as root)."
    }

    $log = Join-Path ([IO.Path]::GetTempPath()) "batchrequest-install-$Package.log"
    $saved = $env:DEBIAN_FRONTEND
    $env:DEBIAN_FRONTEND = 'noninteractive'
    try {
        # The package lists are refreshed once per process (and its children), not once per tool.
        if (-not $env:BATCHREQUEST_APT_UPDATED) {
            & $aptGet -o 'DPkg::Lock::Timeout=300' update *>> $log
            if ($LASTEXITCODE -ne 0) { throw "$hint 'apt-get update' failed with exit code $LASTEXITCODE; see $log." }
            $env:BATCHREQUEST_APT_UPDATED = '1'
        }

        # Another apt on the machine holds the lock for a while; wait for it rather than fail.
        & $aptGet -o 'DPkg::Lock::Timeout=300' install -y $Package *>> $log
        if ($LASTEXITCODE -ne 0) {
            $tail = (Get-Content -LiteralPath $log -Tail 15 -ErrorAction Ignore) -join [Environment]::NewLine
            throw "$hint 'apt-get install -y $Package' failed with exit code $LASTEXITCODE; see $log.$([Environment]::NewLine)$tail"
        }
    }
    finally {
        $env:DEBIAN_FRONTEND = $saved
    }

    $path = Find-TestTool $Command
    if (-not $path) { throw "$hint The package '$Package' was installed but provides no command '$Command'; see $log." }
    $path
}

function Get-FreeLoopbackPort {
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function Test-LoopbackPort {
    param([Parameter(Mandatory)] [int] $Port)
    $client = [Net.Sockets.TcpClient]::new()
    try {
        $client.ConnectAsync([Net.IPAddress]::Loopback, $Port).Wait(1000)
    }
    catch {
        $false
    }
    finally {
        $client.Dispose()
    }
}

function Wait-TestServicePort {
    <# Whether a service started as Process accepts connections on Port within 15 s, without exiting first. #>
    param([Parameter(Mandatory)] [Diagnostics.Process] $Process, [Parameter(Mandatory)] [int] $Port)
    $clock = [Diagnostics.Stopwatch]::StartNew()
    while (-not $Process.HasExited -and -not (Test-LoopbackPort $Port) -and $clock.Elapsed.TotalSeconds -lt 15) {
        Start-Sleep -Milliseconds 50
    }
    -not $Process.HasExited -and (Test-LoopbackPort $Port)
}

function New-TestNginxConfig {
    param(
        [Parameter(Mandatory)] [string] $Prefix,
        [Parameter(Mandatory)] [int] $Port,
        [Parameter(Mandatory)] [uri] $Upstream,
        [Parameter(Mandatory)] [int] $ConnectionLimit,
        [Parameter(Mandatory)] [int] $RatePerSecond
    )
    # One JSON object a line; escape=json keeps a quote in a URI from breaking the line.
    $format = '{"msec":"$msec","method":"$request_method","uri":"$request_uri","status":"$status",' +
        '"connection":"$connection","connectionRequests":"$connection_requests","requestTime":"$request_time",' +
        '"id":"$arg_id","upstreamStatus":"$upstream_status"}'
    @"
# Written by tests/services.ps1 for one test run; every path is inside the prefix $Prefix.
daemon off;
# One process, no workers: nothing switches to another user when run as root, and the limit zones are still shared.
master_process off;
pid $Prefix/nginx.pid;
error_log $Prefix/error.log info;

events {
    worker_connections 1024;
}

http {
    client_body_temp_path $Prefix/client_body;
    proxy_temp_path $Prefix/proxy;
    fastcgi_temp_path $Prefix/fastcgi;
    uwsgi_temp_path $Prefix/uwsgi;
    scgi_temp_path $Prefix/scgi;

    log_format batchrequest escape=json '$format';
    access_log $Prefix/access.log batchrequest;

    # Keyed on the server name: one count and one pace for the whole server, whoever the client.
    limit_conn_zone `$server_name zone=perserver:1m;
    limit_req_zone `$server_name zone=pace:1m rate=$($RatePerSecond)r/s;

    upstream loopback {
        server $($Upstream.Host):$($Upstream.Port);
        keepalive 16;
    }

    server {
        listen 127.0.0.1:$Port;
        server_name batchrequest-nginx;

        # /slow/1500?id=x waits 1.5 s at the upstream's /delay/1500?id=x; past ConnectionLimit at once, 503.
        location /slow/ {
            limit_conn perserver $ConnectionLimit;
            limit_conn_status 503;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://loopback/delay/;
        }

        # burst=0 with nodelay: one request per 1/RatePerSecond s, any other 429 at once. The accepted ones are
        # answered by the upstream's /echo, since 'return' runs before the limit is checked, and for any method.
        location /paced {
            limit_req zone=pace nodelay;
            limit_req_status 429;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://loopback/echo;
        }

        # 444: nginx closes the connection without answering.
        location /close {
            return 444;
        }
    }
}
"@
}

function Start-TestNginx {
    <#
    Starts nginx as a child process on a free loopback port in a fresh temp prefix, in front of the loopback test
    server (Upstream), and returns BaseUri, Process, Prefix, AccessLogPath, ErrorLogPath and ConfigPath.
    #>
    param(
        [Parameter(Mandatory)] [uri] $Upstream,
        [int] $ConnectionLimit = 8,
        [int] $RatePerSecond = 10
    )
    $nginx = Install-TestTool -Command nginx -Package nginx

    # The free port may be taken between the look-up and nginx's bind: then try another.
    foreach ($try in 1..3) {
        $prefix = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "batchrequest-nginx-$([guid]::NewGuid().ToString('N'))")).FullName
        $port = Get-FreeLoopbackPort
        $config = Join-Path $prefix 'nginx.conf'
        $errorLog = Join-Path $prefix 'error.log'
        New-TestNginxConfig -Prefix $prefix -Port $port -Upstream $Upstream -ConnectionLimit $ConnectionLimit -RatePerSecond $RatePerSecond |
            Set-Content -LiteralPath $config -Encoding utf8NoBOM

        # -e: the error log before the config is read, too, is in the prefix rather than in /var/log/nginx.
        $startInfo = [Diagnostics.ProcessStartInfo]::new($nginx)
        foreach ($argument in '-p', $prefix, '-c', $config, '-e', $errorLog) { $startInfo.ArgumentList.Add($argument) }
        $startInfo.UseShellExecute = $false
        $process = [Diagnostics.Process]::Start($startInfo)

        if (Wait-TestServicePort -Process $process -Port $port) {
            return [pscustomobject]@{
                BaseUri       = [uri]"http://127.0.0.1:$port/"
                Process       = $process
                Prefix        = $prefix
                ConfigPath    = $config
                AccessLogPath = Join-Path $prefix 'access.log'
                ErrorLogPath  = $errorLog
                NginxPath     = $nginx
            }
        }

        $errors = (Get-Content -LiteralPath $errorLog -ErrorAction Ignore) -join [Environment]::NewLine
        if (-not $process.HasExited) { $process.Kill() }
        $process.Dispose()
        Remove-Item -LiteralPath $prefix -Recurse -Force -ErrorAction Ignore
        if ($errors -notmatch 'Address already in use') {
            throw "nginx did not accept connections on 127.0.0.1:$port within 15 s.$([Environment]::NewLine)$errors"
        }
    }
    throw "nginx found no free loopback port in 3 tries."
}

function Get-NginxAccessLog {
    <#
    The access log as objects: Time, Method, Uri, Status, Connection, ConnectionRequests, RequestTime, Id. nginx
    writes a request's line only after it has sent the answer, so a client can read the log before the last line is
    there: with -Expect, waits (at most 10 s) until at least that many lines (with -Status, lines of that status) are.
    #>
    param([Parameter(Mandatory)] $Nginx, [int] $Expect, [int] $Status)
    $deadline = [DateTime]::UtcNow.AddSeconds(10)
    while ($true) {
        $log = @(Read-NginxAccessLog $Nginx)
        $counted = if ($Status) { @($log | Where-Object Status -EQ $Status).Count } else { $log.Count }
        if ($counted -ge $Expect -or [DateTime]::UtcNow -gt $deadline) { return $log }
        Start-Sleep -Milliseconds 20
    }
}

function Read-NginxAccessLog {
    param([Parameter(Mandatory)] $Nginx)
    if (-not (Test-Path -LiteralPath $Nginx.AccessLogPath)) { return }
    foreach ($line in Get-Content -LiteralPath $Nginx.AccessLogPath) {
        if (-not $line) { continue }
        $entry = $line | ConvertFrom-Json
        [pscustomobject]@{
            Time               = [DateTimeOffset]::FromUnixTimeMilliseconds([long]([decimal]$entry.msec * 1000))
            Method             = $entry.method
            Uri                = $entry.uri
            Status             = [int]$entry.status
            Connection         = [long]$entry.connection
            ConnectionRequests = [int]$entry.connectionRequests
            RequestTime        = [double]$entry.requestTime
            Id                 = if ($entry.id) { $entry.id } else { $null }
            UpstreamStatus     = $entry.upstreamStatus
        }
    }
}

function Clear-NginxAccessLog {
    <# Empties the access log between tests; nginx keeps appending to the same open file. #>
    param([Parameter(Mandatory)] $Nginx)
    [IO.File]::WriteAllText($Nginx.AccessLogPath, '')
}

function Stop-TestNginx {
    param([Parameter(Mandatory)] $Nginx)
    if (-not $Nginx.Process.HasExited) {
        # A graceful quit first, so open requests finish; killed if it has not gone in 5 s.
        & $Nginx.NginxPath -p $Nginx.Prefix -c $Nginx.ConfigPath -e $Nginx.ErrorLogPath -s quit 2>$null
        if (-not $Nginx.Process.WaitForExit(5000)) {
            $Nginx.Process.Kill()
            $null = $Nginx.Process.WaitForExit(5000)
        }
    }
    $Nginx.Process.Dispose()
    Remove-Item -LiteralPath $Nginx.Prefix -Recurse -Force -ErrorAction Ignore
}

function Start-TestTinyproxy {
    <#
    Starts tinyproxy as a child process on a free loopback port with a generated config in a fresh temp folder, with
    basic auth when Credential is given, and returns Uri, Process, Prefix, LogPath and ConfigPath. It adds
    "Via: 1.1 batchrequest-tinyproxy" to what it forwards, so a server can tell a proxied request from a direct one.
    #>
    param([pscredential] $Credential)
    $tinyproxy = Install-TestTool -Command tinyproxy -Package tinyproxy

    # The free port may be taken between the look-up and tinyproxy's bind: then try another.
    foreach ($try in 1..3) {
        $prefix = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "batchrequest-tinyproxy-$([guid]::NewGuid().ToString('N'))")).FullName
        $port = Get-FreeLoopbackPort
        $config = Join-Path $prefix 'tinyproxy.conf'
        $log = Join-Path $prefix 'tinyproxy.log'
        $lines = @(
            "Port $port", 'Listen 127.0.0.1', 'Timeout 30', "LogFile `"$log`"", 'LogLevel Connect', 'MaxClients 50',
            'Allow 127.0.0.1', 'ViaProxyName "batchrequest-tinyproxy"'
        )
        if ($Credential) { $lines += "BasicAuth $($Credential.UserName) $($Credential.GetNetworkCredential().Password)" }
        $lines | Set-Content -LiteralPath $config -Encoding utf8NoBOM

        # -d: in the foreground, a child of this process.
        $startInfo = [Diagnostics.ProcessStartInfo]::new($tinyproxy)
        foreach ($argument in '-d', '-c', $config) { $startInfo.ArgumentList.Add($argument) }
        $startInfo.UseShellExecute = $false
        $startInfo.RedirectStandardOutput = $true
        $startInfo.RedirectStandardError = $true
        $process = [Diagnostics.Process]::Start($startInfo)

        if (Wait-TestServicePort -Process $process -Port $port) {
            return [pscustomobject]@{
                Uri        = [uri]"http://127.0.0.1:$port/"
                Process    = $process
                Prefix     = $prefix
                ConfigPath = $config
                LogPath    = $log
            }
        }

        $errors = (Get-Content -LiteralPath $log -ErrorAction Ignore) -join [Environment]::NewLine
        if (-not $process.HasExited) { $process.Kill() }
        $process.Dispose()
        Remove-Item -LiteralPath $prefix -Recurse -Force -ErrorAction Ignore
        if ($errors -notmatch 'Address already in use|Could not create listening') {
            throw "tinyproxy did not accept connections on 127.0.0.1:$port within 15 s.$([Environment]::NewLine)$errors"
        }
    }
    throw "tinyproxy found no free loopback port in 3 tries."
}

function Get-TinyproxyRequestLine {
    <# The request lines tinyproxy logged ("GET http://host/path HTTP/1.1", "CONNECT host:port HTTP/1.1"), in order. #>
    param([Parameter(Mandatory)] $Proxy)
    foreach ($line in Get-Content -LiteralPath $Proxy.LogPath -ErrorAction Ignore) {
        if ($line -match 'Request \(file descriptor \d+\): (.+)$') { $Matches[1] }
    }
}

function Stop-TestTinyproxy {
    param([Parameter(Mandatory)] $Proxy)
    if (-not $Proxy.Process.HasExited) {
        $Proxy.Process.Kill()
        $null = $Proxy.Process.WaitForExit(5000)
    }
    $Proxy.Process.Dispose()
    Remove-Item -LiteralPath $Proxy.Prefix -Recurse -Force -ErrorAction Ignore
}

function Invoke-TestChromium {
    <#
    Opens a local page in headless Chromium (Debian package chromium, installed when missing) and returns the DOM as
    serialized after the page's scripts ran (-DumpDom), or takes a screenshot of the window (-Screenshot). Every host
    name resolves to nothing, so the browser reaches no server, and a run that takes over 60 s is killed.
    #>
    param(
        [Parameter(Mandatory)] [string] $Page,
        [string] $Screenshot,
        [switch] $DumpDom,
        [int] $Width = 1100,
        [int] $Height = 1600
    )
    $chromium = Install-TestTool -Command 'chromium' -Package 'chromium'
    $userData = Join-Path ([IO.Path]::GetTempPath()) "batchrequest-chromium-$([guid]::NewGuid().ToString('N'))"
    $start = [Diagnostics.ProcessStartInfo]::new($chromium)
    $arguments = @(
        '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run', '--no-default-browser-check',
        '--disable-extensions', '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--host-resolver-rules=MAP * ~NOTFOUND', "--user-data-dir=$userData", "--window-size=$Width,$Height")
    if ($Screenshot) { $arguments += "--screenshot=$Screenshot" }
    if ($DumpDom) { $arguments += '--dump-dom' }
    # The constructor, not a cast: a cast takes a Unix path for a relative URI.
    $arguments += [uri]::new((Resolve-Path -LiteralPath $Page).ProviderPath).AbsoluteUri
    foreach ($argument in $arguments) { $start.ArgumentList.Add($argument) }
    $start.UseShellExecute = $false
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $process = [Diagnostics.Process]::Start($start)
    try {
        $output = $process.StandardOutput.ReadToEndAsync()
        $errors = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit(60000)) {
            $process.Kill($true)
            throw "chromium did not finish within 60 s opening $Page."
        }
        $process.WaitForExit()
        if ($process.ExitCode -ne 0) { throw "chromium exited with $($process.ExitCode) opening ${Page}: $($errors.Result)" }
        if ($DumpDom) { $output.Result }
    }
    finally {
        $process.Dispose()
        Remove-Item -LiteralPath $userData -Recurse -Force -ErrorAction Ignore
    }
}

function Start-TestRedis {
    <#
    Starts redis-server as a child process on a free loopback port, without persistence, in a fresh temp folder, with
    a password when one is given; returns Port, Address (redis://127.0.0.1:port), Process, Prefix, Password and the
    paths of redis-server and redis-cli.
    #>
    param([string] $Password)
    $server = Install-TestTool -Command redis-server -Package redis-server
    $cli = Install-TestTool -Command redis-cli -Package redis-tools

    foreach ($try in 1..3) {
        $prefix = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "batchrequest-redis-$([guid]::NewGuid().ToString('N'))")).FullName
        $port = Get-FreeLoopbackPort
        $arguments = @('--port', $port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', $prefix, '--logfile', (Join-Path $prefix 'redis.log'))
        if ($Password) { $arguments += '--requirepass', $Password }
        $startInfo = [Diagnostics.ProcessStartInfo]::new($server)
        foreach ($argument in $arguments) { $startInfo.ArgumentList.Add([string]$argument) }
        $startInfo.UseShellExecute = $false
        $startInfo.RedirectStandardOutput = $true
        $process = [Diagnostics.Process]::Start($startInfo)

        if (Wait-TestServicePort -Process $process -Port $port) {
            return [pscustomobject]@{
                Port       = $port
                Address    = "redis://127.0.0.1:$port"
                Process    = $process
                Prefix     = $prefix
                Password   = $Password
                ServerPath = $server
                CliPath    = $cli
            }
        }

        $errors = (Get-Content -LiteralPath (Join-Path $prefix 'redis.log') -ErrorAction Ignore) -join [Environment]::NewLine
        if (-not $process.HasExited) { $process.Kill() }
        $process.Dispose()
        Remove-Item -LiteralPath $prefix -Recurse -Force -ErrorAction Ignore
        if ($errors -notmatch 'Address already in use') {
            throw "redis-server did not accept connections on 127.0.0.1:$port within 15 s.$([Environment]::NewLine)$errors"
        }
    }
    throw "redis-server found no free loopback port in 3 tries."
}

function Invoke-TestRedis {
    <# Runs one redis-cli command against the test Redis and returns its output lines. #>
    param([Parameter(Mandatory)] $Redis, [Parameter(Mandatory, ValueFromRemainingArguments)] [string[]] $Command)
    $auth = if ($Redis.Password) { @('--no-auth-warning', '-a', $Redis.Password) } else { @() }
    & $Redis.CliPath -h 127.0.0.1 -p $Redis.Port @auth @Command
}

function Stop-TestRedis {
    param([Parameter(Mandatory)] $Redis)
    if (-not $Redis.Process.HasExited) {
        $Redis.Process.Kill()
        $null = $Redis.Process.WaitForExit(5000)
    }
    $Redis.Process.Dispose()
    Remove-Item -LiteralPath $Redis.Prefix -Recurse -Force -ErrorAction Ignore
}

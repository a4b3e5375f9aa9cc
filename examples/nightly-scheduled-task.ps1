#Requires -Version 7.4

<#
.SYNOPSIS
    A nightly job that sends a request file with a journal, so that a run that is killed resumes where it stopped.
.DESCRIPTION
    Every night has its own journal, named after the date: -JournalPath records each record's outcome as it happens,
    and -Resume makes a second run the same night send only what is not done yet. Records the journal shows succeeded
    come back as Skipped; a POST that was in flight when the first run was killed is sent again only because it
    carries an idempotency key (the same key as the first time).

    So the scheduler may simply start the job several times a night (at 02:00, 03:00, 04:00 and 05:00 below): the
    first run does the work, a run after a reboot or a kill finishes it, and a run after a finished batch sends
    nothing. Two runs never overlap: a journal takes one run at a time.

    Whatever did not succeed is also written to a failed-records file for the morning (retry-what-failed.ps1 sends
    it). The script logs to a transcript beside the journal, removes state files older than -KeepDays, and ends with
    exit code 1 while records are left that did not succeed, so the scheduler shows the night as failed.

    The API token comes from the environment variable ORDERS_API_TOKEN (set it in the task's or the service's
    environment, never in this file), or use Get-Secret from Microsoft.PowerShell.SecretManagement instead.
.EXAMPLE
    ./nightly-scheduled-task.ps1 -Path /opt/jobs/orders.json -StateDir /var/lib/orders-nightly
.EXAMPLE
    ./nightly-scheduled-task.ps1 -Night 2026-11-24

    Finishes the batch of an earlier night, in that night's journal.
#>
[CmdletBinding()]
param(
    # Tonight's request file.
    [string] $Path = (Join-Path $PSScriptRoot 'orders.json'),

    # Journals, failed-records files and transcripts, one set per night.
    [string] $StateDir = (Join-Path $HOME '.orders-nightly'),

    # The night whose batch this run sends or resumes; today by default.
    [ValidatePattern('^\d{4}-\d{2}-\d{2}$')]
    [string] $Night = (Get-Date -Format 'yyyy-MM-dd'),

    # State files of older nights are removed.
    [ValidateRange(1, 3650)]
    [int] $KeepDays = 30,

    [ValidateRange(1, 1024)]
    [int] $ThrottleLimit = 40
)

$ErrorActionPreference = 'Stop'

# Not '#Requires -Modules BatchRequest', which refuses a new session (pwsh -File, a scheduler) where BatchRequest is
# imported by path rather than installed: the module already loaded, else the installed one, else the build beside
# these examples.
if (-not (Get-Module BatchRequest)) {
    $built = Join-Path $PSScriptRoot '../out/BatchRequest/BatchRequest.psd1'
    Import-Module $(if (-not (Get-Module BatchRequest -ListAvailable) -and (Test-Path -LiteralPath $built)) { $built } else { 'BatchRequest' })
}
$null = New-Item -ItemType Directory -Path $StateDir -Force
$name = [IO.Path]::GetFileNameWithoutExtension($Path)
$journal = Join-Path $StateDir "$name-$Night.journal.ndjson"
$failed = Join-Path $StateDir "$name-$Night.failed.ndjson"
$null = Start-Transcript -LiteralPath (Join-Path $StateDir "$name-$Night.log") -Append

try {
    Get-ChildItem -LiteralPath $StateDir -File |
        Where-Object LastWriteTime -LT (Get-Date).AddDays(-$KeepDays) |
        Remove-Item

    $send = @{
        ThrottleLimit        = $ThrottleLimit
        IdempotencyKeyHeader = 'Idempotency-Key'
        JournalPath          = $journal
        Resume               = $true     # the first run of the night starts the journal; later runs continue it
        FailedPath           = $failed
    }
    if ($env:ORDERS_API_TOKEN) {
        $send.Token = ConvertTo-SecureString $env:ORDERS_API_TOKEN -AsPlainText -Force
    }

    $results = @(Import-RequestFile -LiteralPath $Path | Invoke-BatchRequest @send -ErrorAction SilentlyContinue)
    $results | Group-Object Status -NoElement | Format-Table Name, Count -AutoSize | Out-Host

    $open = @($results | Where-Object Status -NotIn 'Succeeded', 'Skipped')
    if ($open.Count) {
        Write-Warning "$($open.Count) of $($results.Count) records did not succeed; they are in $failed"
        $open | Format-Table Id, Status, StatusCode, Error -AutoSize | Out-Host
        exit 1
    }
    Write-Host "All $($results.Count) records of $Night are done."
}
finally {
    $null = Stop-Transcript
}

<#
Registering the job
===================

Windows Task Scheduler (an elevated pwsh; the account needs "Log on as a batch job"):

    $action = New-ScheduledTaskAction -Execute 'C:\Program Files\PowerShell\7\pwsh.exe' `
        -Argument '-NoProfile -NonInteractive -File "C:\Jobs\nightly-scheduled-task.ps1" -Path "C:\Jobs\orders.json" -StateDir "C:\Jobs\state"'
    # 02:00, then every hour until 05:00: a later run resumes a killed one, or finds the night done.
    $trigger = New-ScheduledTaskTrigger -Daily -At '02:00'
    $trigger.Repetition = (New-ScheduledTaskTrigger -Once -At '02:00' `
        -RepetitionInterval (New-TimeSpan -Hours 1) -RepetitionDuration (New-TimeSpan -Hours 3)).Repetition
    $settings = New-ScheduledTaskSettingsSet -StartWhenAvailable -MultipleInstances IgnoreNew `
        -ExecutionTimeLimit (New-TimeSpan -Hours 3)
    Register-ScheduledTask -TaskName 'Orders nightly batch' -Action $action -Trigger $trigger -Settings $settings `
        -User 'CONTOSO\svc-orders' -Password (Read-Host 'Password of CONTOSO\svc-orders')
    # The token: a machine or user environment variable ORDERS_API_TOKEN of that account, or a SecretManagement vault.

cron (crontab -e, as the user that owns the state folder; /etc/orders-nightly.env holds
"export ORDERS_API_TOKEN=...", readable by that user only):

    0 2-5 * * *  . /etc/orders-nightly.env && flock -n /tmp/orders-nightly.lock pwsh -NoProfile -NonInteractive -File /opt/jobs/nightly-scheduled-task.ps1 -Path /opt/jobs/orders.json -StateDir /var/lib/orders-nightly >> /var/log/orders-nightly.log 2>&1

systemd (a service and a timer; the service's output goes to the journal: journalctl -u orders-nightly):

    # /etc/systemd/system/orders-nightly.service
    [Unit]
    Description=Orders nightly batch (BatchRequest)
    Wants=network-online.target
    After=network-online.target

    [Service]
    Type=oneshot
    User=orders
    # ORDERS_API_TOKEN=... in a file readable by root only
    EnvironmentFile=/etc/orders-nightly.env
    ExecStart=/usr/bin/pwsh -NoProfile -NonInteractive -File /opt/jobs/nightly-scheduled-task.ps1 -Path /opt/jobs/orders.json -StateDir /var/lib/orders-nightly

    # /etc/systemd/system/orders-nightly.timer
    [Unit]
    Description=Run orders-nightly.service at 02:00, and hourly until 05:00 to finish an interrupted run

    [Timer]
    OnCalendar=*-*-* 02..05:00:00
    # A night missed while the machine was off runs at the next boot.
    Persistent=true

    [Install]
    WantedBy=timers.target

    systemctl daemon-reload && systemctl enable --now orders-nightly.timer

For systemd the EnvironmentFile holds plain NAME=value lines (no "export"); for cron the file is sourced by sh.
#>

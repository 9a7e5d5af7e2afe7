#!/usr/bin/env pwsh
# One entry point for newcomers and CI; the PowerShell twin of build.sh (same verbs, same steps).
#   pwsh ./build.ps1 test          every default test (excludes the long categories below)
#   pwsh ./build.ps1 test chaos    only the [Category("chaos")] tests (long failure runs)
#   pwsh ./build.ps1 test soak     only the [Category("soak")] tests
#   pwsh ./build.ps1 demo          the butterfly failover demo
#   pwsh ./build.ps1 bench         side-by-side benchmark (engine, NetMQ, libzmq, raw sockets)
#   pwsh ./build.ps1 pack          NuGet package of the Engine library into artifacts/packages
param(
    [string]$Verb = 'test',
    [Parameter(ValueFromRemainingArguments)]$Rest
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

# With no remaining arguments PowerShell binds a single $null; build.sh would see none.
[string[]]$Rest = @($Rest | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_ })

$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'
$env:DOTNET_SKIP_FIRST_TIME_EXPERIENCE = '1'

# Runs a native command and stops the script with its exit code when it fails (build.sh's set -e).
function Invoke-Native {
    param([Parameter(Mandatory)][string]$Command, [string[]]$Arguments = @())
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) {
        exit $LASTEXITCODE
    }
}

function Confirm-Libzmq {
    # libzmq is our interop partner and benchmark rival; tests and benchmarks call it by P/Invoke.
    if (-not $IsLinux) {
        return
    }

    # iproute2 ("ip") lets the failure tests make network namespaces (a second host, a cut cable).
    $missing = @()
    $ldconfig = Get-Command ldconfig, /sbin/ldconfig -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not ($ldconfig -and ((& $ldconfig -p 2>$null) -match 'libzmq\.so\.5'))) {
        $missing += 'libzmq5'
    }

    if (-not (Get-Command ip -ErrorAction SilentlyContinue)) {
        $missing += 'iproute2'
    }

    if ($missing.Count -eq 0) {
        return
    }

    Write-Host "build.ps1: installing $($missing -join ' ') (Debian packages)"
    $aptGet = @('apt-get')
    if ((& id -u) -ne '0') {
        $aptGet = @('sudo', 'apt-get')
    }

    $env:DEBIAN_FRONTEND = 'noninteractive'
    Invoke-Native $aptGet[0] (@($aptGet | Select-Object -Skip 1) + @('update', '-qq'))
    Invoke-Native $aptGet[0] (@($aptGet | Select-Object -Skip 1) + @('install', '-y', '-qq') + $missing) > $null
}

function Confirm-Dotnet {
    if (-not (Get-Command dotnet -ErrorAction SilentlyContinue)) {
        [Console]::Error.WriteLine('build.ps1: the .NET 10 SDK is required (https://dot.net); it is not on PATH')
        exit 1
    }
}

function Invoke-Build {
    Confirm-Dotnet
    Invoke-Native dotnet @('restore', 'Engine.sln', '--nologo', '-v', 'quiet')
    Invoke-Native dotnet @('build', 'Engine.sln', '-c', 'Release', '--no-restore', '--nologo', '-v', 'quiet')
}

# Prints "N passed, N failed, N skipped" alone on a line, from the TRX file the test run wrote.
# Returns $false when there is no TRX file to read (the run crashed before writing one).
function Write-TestSummary {
    param([string]$Trx)
    if (-not (Test-Path $Trx)) {
        [Console]::Error.WriteLine("build.ps1: no test results at $Trx")
        return $false
    }

    $counters = ([xml](Get-Content -Raw $Trx)).SelectSingleNode("//*[local-name()='Counters']")
    function Get-Count([string]$Name) {
        $value = if ($counters) { $counters.GetAttribute($Name) } else { '' }
        if ($value) { [int]$value } else { 0 }
    }

    $passed = Get-Count 'passed'
    $failed = (Get-Count 'failed') + (Get-Count 'error') + (Get-Count 'timeout') + (Get-Count 'aborted')
    # The TRX logger counts an ignored test in "total" but in no outcome counter (notExecuted stays 0).
    $skipped = [Math]::Max(0, (Get-Count 'total') - $passed - $failed)
    Write-Host "$passed passed, $failed failed, $skipped skipped"
    return $true
}

switch -CaseSensitive ($Verb) {
    'test' {
        Confirm-Libzmq
        Invoke-Build
        $category = if ($Rest.Count -gt 0) { $Rest[0] } else { '' }
        $filter = if ($category) { "Category=$category" } else { 'Category!=chaos&Category!=soak&Category!=fuzz' }
        $results = 'artifacts/test-results'
        # One file per category, so that a soak or chaos run does not overwrite the default run's results.
        $trx = if ($category) { "engine-tests-$category.trx" } else { 'engine-tests.trx' }
        Remove-Item -Force -ErrorAction SilentlyContinue (Join-Path $results $trx)
        & dotnet test Engine.Tests/Engine.Tests.csproj -c Release --no-build --nologo `
            --filter $filter --logger 'console;verbosity=normal' --logger "trx;LogFileName=$trx" `
            --results-directory $results `
            -- NUnit.NumberOfTestWorkers=1
        $status = $LASTEXITCODE
        if (-not (Write-TestSummary (Join-Path $results $trx)) -and $status -eq 0) {
            $status = 1
        }

        exit $status
    }
    'demo' {
        Confirm-Libzmq
        Invoke-Build
        Invoke-Native dotnet (@('Butterfly/bin/Release/net10.0/Butterfly.dll', 'demo') + $Rest)
    }
    'bench' {
        Confirm-Libzmq
        Invoke-Build
        Invoke-Native dotnet (@('Engine.Benchmarks/bin/Release/net10.0/Engine.Benchmarks.dll', 'bench') + $Rest)
    }
    'pack' {
        Invoke-Build
        Invoke-Native dotnet @('pack', 'Engine/Engine.csproj', '-c', 'Release', '--no-build', '--nologo', '-o', 'artifacts/packages')
    }
    default {
        [Console]::Error.WriteLine('usage: pwsh ./build.ps1 test [chaos|soak|fuzz] | demo [options] | bench [--quick] | pack')
        exit 2
    }
}

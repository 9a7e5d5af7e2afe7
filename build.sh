#!/usr/bin/env bash
# One entry point for newcomers and CI. Verbs: test [category], demo, bench [--quick], pack.
#   ./build.sh test          every default test (excludes the long categories below)
#   ./build.sh test chaos    only the [Category("chaos")] tests (long failure runs)
#   ./build.sh test soak     only the [Category("soak")] tests
#   ./build.sh demo          the butterfly failover demo
#   ./build.sh bench         side-by-side benchmark (engine, NetMQ, libzmq, raw sockets)
#   ./build.sh pack          NuGet package of the Engine library into artifacts/packages
# After a test run the last line is "N passed, N failed, N skipped" (from artifacts/test-results/engine-tests.trx);
# the exit code is non-zero when any test failed. build.ps1 is the PowerShell twin of this script.
set -euo pipefail
cd "$(dirname "$0")"

verb="${1:-test}"
shift || true
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

ensure_libzmq() {
  # libzmq is our interop partner and benchmark rival; tests and benchmarks call it by P/Invoke.
  # iproute2 ("ip") lets the failure tests make network namespaces (a second host, a cut cable).
  # Not grep -q: it exits at the first match, ldconfig then dies of SIGPIPE, and with pipefail the
  # check fails now and then, reinstalling (apt-get update) a library that is already there.
  local missing=""
  if ! ldconfig -p 2>/dev/null | grep 'libzmq\.so\.5' >/dev/null; then missing=" libzmq5"; fi
  if ! command -v ip >/dev/null 2>&1; then missing="$missing iproute2"; fi
  if [ -z "$missing" ]; then return; fi
  echo "build.sh: installing$missing (Debian packages)"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
}

ensure_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "build.sh: the .NET 10 SDK is required (https://dot.net); it is not on PATH" >&2
    exit 1
  fi
}

# Prints "N passed, N failed, N skipped" alone on a line, from the TRX file the test run wrote.
# Returns non-zero when there is no TRX file to read (the run crashed before writing one).
print_test_summary() {
  local trx="$1"
  if [ ! -f "$trx" ]; then
    echo "build.sh: no test results at $trx" >&2
    return 1
  fi
  local counters
  counters="$(tr '\n' ' ' <"$trx" | grep -o '<Counters [^>]*>' | head -n 1 || true)"
  count() {
    local value
    value="$(printf '%s' "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p")"
    echo "${value:-0}"
  }
  local passed failed skipped
  passed="$(count passed)"
  failed=$(( $(count failed) + $(count error) + $(count timeout) + $(count aborted) ))
  # The TRX logger counts an ignored test in "total" but in no outcome counter (notExecuted stays 0).
  skipped=$(( $(count total) - passed - failed ))
  if [ "$skipped" -lt 0 ]; then skipped=0; fi
  echo "$passed passed, $failed failed, $skipped skipped"
}

build() {
  ensure_dotnet
  dotnet restore Engine.sln --nologo -v quiet
  dotnet build Engine.sln -c Release --no-restore --nologo -v quiet
}

case "$verb" in
  test)
    ensure_libzmq
    build
    category="${1:-}"
    if [ -n "$category" ]; then
      filter="Category=$category"
    else
      filter="Category!=chaos&Category!=soak&Category!=fuzz"
    fi
    results="artifacts/test-results"
    # One file per category, so that a soak or chaos run does not overwrite the default run's results.
    trx="engine-tests${category:+-$category}.trx"
    rm -f "$results/$trx"
    status=0
    dotnet test Engine.Tests/Engine.Tests.csproj -c Release --no-build --nologo \
      --filter "$filter" --logger "console;verbosity=normal" --logger "trx;LogFileName=$trx" \
      --results-directory "$results" \
      -- NUnit.NumberOfTestWorkers=1 || status=$?
    print_test_summary "$results/$trx" || { [ "$status" != 0 ] || status=1; }
    exit "$status"
    ;;
  demo)
    ensure_libzmq
    build
    dotnet Butterfly/bin/Release/net10.0/Butterfly.dll demo "$@"
    ;;
  bench)
    ensure_libzmq
    build
    dotnet Engine.Benchmarks/bin/Release/net10.0/Engine.Benchmarks.dll bench "$@"
    ;;
  pack)
    build
    dotnet pack Engine/Engine.csproj -c Release --no-build --nologo -o artifacts/packages
    ;;
  *)
    echo "usage: ./build.sh test [chaos|soak|fuzz] | demo [options] | bench [--quick] | pack" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# One entry point for newcomers and CI. Verbs: test [category], demo, bench [--quick], pack.
#   ./build.sh test          every default test (excludes the long categories below)
#   ./build.sh test chaos    only the [Category("chaos")] tests (long failure runs)
#   ./build.sh test soak     only the [Category("soak")] tests
#   ./build.sh demo          the butterfly failover demo
#   ./build.sh bench         side-by-side benchmark (engine, NetMQ, libzmq, raw sockets)
#   ./build.sh pack          NuGet package of the Engine library into artifacts/packages
set -euo pipefail
cd "$(dirname "$0")"

verb="${1:-test}"
shift || true
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

ensure_libzmq() {
  # libzmq is our interop partner and benchmark rival; tests and benchmarks call it by P/Invoke.
  # Not grep -q: it exits at the first match, ldconfig then dies of SIGPIPE, and with pipefail the
  # check fails now and then, reinstalling (apt-get update) a library that is already there.
  if ldconfig -p 2>/dev/null | grep 'libzmq\.so\.5' >/dev/null; then return; fi
  echo "build.sh: installing libzmq5 (Debian package)"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libzmq5 >/dev/null
}

ensure_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "build.sh: the .NET 10 SDK is required (https://dot.net); it is not on PATH" >&2
    exit 1
  fi
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
    dotnet test Engine.Tests/Engine.Tests.csproj -c Release --no-build --nologo \
      --filter "$filter" --logger "console;verbosity=normal" --results-directory artifacts/test-results \
      -- NUnit.NumberOfTestWorkers=1
    ;;
  demo)
    ensure_libzmq
    build
    dotnet Butterfly/bin/Release/net10.0/Butterfly.dll demo "$@"
    ;;
  bench)
    ensure_libzmq
    build
    dotnet Engine.Benchmarks/bin/Release/net10.0/Engine.Benchmarks.dll "$@"
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

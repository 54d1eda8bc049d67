#!/usr/bin/env bash
# The test command of the README: installs the prerequisites, then builds and runs every unit test (surefire) and
# integration test (failsafe, *IT). Extra arguments go to Maven (e.g. -pl model).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-prerequisites.sh
exec mvn -B -ntp verify "$@"

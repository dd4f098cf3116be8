#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, then runs them.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Bluesky end-to-end test runs against the real reference server (Node 22, @atproto/dev-env,
# PostgreSQL, Redis); EARSHOT_SKIP_BLUESKY_E2E=1 skips installing and running it.
if [ "${EARSHOT_SKIP_BLUESKY_E2E:-}" = "1" ]; then
    echo "EARSHOT_SKIP_BLUESKY_E2E=1: skipping the Bluesky end-to-end setup and test"
else
    bash tests/bluesky/setup.sh
fi

# The store's tests run on sled and on PostgreSQL (Debian's package, a cluster of its own on
# 127.0.0.1:54329); EARSHOT_SKIP_POSTGRES=1 skips setting it up and the PostgreSQL variants.
if [ "${EARSHOT_SKIP_POSTGRES:-}" = "1" ]; then
    echo "EARSHOT_SKIP_POSTGRES=1: skipping the PostgreSQL setup and the store's PostgreSQL tests"
else
    bash tests/postgres/setup.sh
fi

cargo test --locked --all-targets

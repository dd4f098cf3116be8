#!/usr/bin/env bash
# Starts the PostgreSQL server the store's tests run against on both backends, idempotently:
# Debian's postgresql package (installed with apt-get when missing), a cluster of its own in
# tests/postgres/.cluster (git ignores it), trusting local connections, on 127.0.0.1:54329.
# A server already answering there is left alone. The tests find it through
# EARSHOT_TEST_POSTGRES (default postgres://postgres@127.0.0.1:54329/postgres); each test makes
# a database of its own. EARSHOT_SKIP_POSTGRES=1 skips this and the PostgreSQL variants.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cluster="$here/.cluster"
port=54329

bin_dir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(bin_dir)" ]; then
    echo "postgres setup: installing postgresql from apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || true
    apt-get install -y -qq postgresql >/dev/null
fi
bin="$(bin_dir)"

if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
    echo "postgres setup: already running on 127.0.0.1:$port"
    exit 0
fi

# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
as_owner() {
    if [ "$(id -u)" = "0" ]; then
        su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
    else
        "$@"
    fi
}

mkdir -p "$cluster"
if [ "$(id -u)" = "0" ]; then
    chown postgres: "$cluster"
    # su needs to reach the folder through the worktree.
    chmod o+x "$here"
fi
if [ ! -f "$cluster/data/PG_VERSION" ]; then
    echo "postgres setup: creating a cluster in $cluster"
    as_owner "$bin/initdb" -D "$cluster/data" -U postgres --auth=trust --encoding=UTF8 >/dev/null
fi
# TLS, for the test that connects with sslmode=require: a CA of the cluster's own (tests trust
# it with sslrootcert=) and a server certificate it signed for 127.0.0.1. Plain connections
# still work. Without openssl the server runs without TLS and that test says it is skipped.
tls=""
if command -v openssl >/dev/null; then
    if [ ! -f "$cluster/tls/server.crt" ]; then
        echo "postgres setup: making a test CA and server certificate in $cluster/tls"
        as_owner mkdir -p "$cluster/tls"
        as_owner bash -c "cd '$cluster/tls' \
            && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj /CN=earshot-test-ca 2>/dev/null \
            && openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null \
            && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext \
            && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 3650 -extfile server.ext 2>/dev/null \
            && chmod 600 server.key && chmod 644 ca.crt"
    fi
    tls="-c ssl=on -c ssl_cert_file=$cluster/tls/server.crt -c ssl_key_file=$cluster/tls/server.key"
else
    echo "postgres setup: no openssl; the server runs without TLS"
fi
# Durable as in production (fsync, synchronous commit), so the benchmark's figures hold there.
as_owner "$bin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $cluster -c max_connections=300 $tls" \
    start >/dev/null
echo "postgres setup: ready on 127.0.0.1:$port"

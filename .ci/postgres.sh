#!/usr/bin/env bash
# CI: a local PostgreSQL for the covey.store tests, on 127.0.0.1:5432.
#
# Run as root on Debian (no systemd needed). Installs PostgreSQL from Debian's packages if
# it is missing, starts the cluster, creates a test user and database, and prints exactly one
# line on stdout for the caller to eval:
#
#   eval "$(.ci/postgres.sh)"   # sets COVEY_TEST_POSTGRES_URL
#
# Everything else goes to stderr. Safe to run again: each step checks before it acts.
set -euo pipefail

PG_USER=${COVEY_PG_USER:-covey}
PG_PASSWORD=${COVEY_PG_PASSWORD:-covey}
PG_DB=${COVEY_PG_DB:-covey_test}
PG_HOST=127.0.0.1
PG_PORT=5432
CLUSTER=main

log() { echo "postgres.sh: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
    log "run me as root (I install packages and start the cluster as user postgres)"
    exit 1
fi

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    log "installing PostgreSQL from Debian's packages"
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >&2
fi

VERSION=$(ls /usr/lib/postgresql | sort -V | tail -n 1)

if ! pg_lsclusters --no-header | awk '{print $1 "/" $2}' | grep -qx "$VERSION/$CLUSTER"; then
    log "creating cluster $VERSION/$CLUSTER"
    pg_createcluster "$VERSION" "$CLUSTER" --port="$PG_PORT" >&2
fi

# pg_ctlcluster status: 0 running, 3 stopped.
if ! pg_ctlcluster "$VERSION" "$CLUSTER" status >/dev/null 2>&1; then
    port=$(pg_conftool -s "$VERSION" "$CLUSTER" show port 2>/dev/null || echo "$PG_PORT")
    if [ "$port" != "$PG_PORT" ]; then
        log "moving cluster $VERSION/$CLUSTER from port $port to $PG_PORT"
        pg_conftool "$VERSION" "$CLUSTER" set port "$PG_PORT"
    fi
    log "starting cluster $VERSION/$CLUSTER"
    # Inside containers without systemd, pg_ctlcluster falls back to pg_ctl by itself.
    pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi

for _ in $(seq 1 60); do
    if pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
        break
    fi
    sleep 0.5
done
if ! pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
    log "PostgreSQL did not accept connections on $PG_HOST:$PG_PORT within 30 s; see" \
        "/var/log/postgresql/postgresql-$VERSION-$CLUSTER.log"
    exit 1
fi

as_postgres() { (cd / && runuser -u postgres -- "$@"); }

as_postgres psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -qAt \
    -v user="$PG_USER" -v password="$PG_PASSWORD" >&2 <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'user', :'password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'user', :'password') \gexec
SQL

if [ -z "$(as_postgres psql -p "$PG_PORT" -qAt \
    -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" ]; then
    log "creating database $PG_DB owned by $PG_USER"
    as_postgres createdb -p "$PG_PORT" -O "$PG_USER" "$PG_DB"
fi

echo "export COVEY_TEST_POSTGRES_URL=postgresql://$PG_USER:$PG_PASSWORD@$PG_HOST:$PG_PORT/$PG_DB"

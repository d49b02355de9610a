#!/bin/sh
# Starts PostgreSQL in a container. At first start (an empty $PGDATA) it runs initdb with the
# superuser password from $POSTGRES_PASSWORD_FILE, then runs /docker-entrypoint-initdb.d/*.sh and
# *.sql against a server that listens on its Unix socket only, then starts the real server on
# $PGPORT (listen_addresses from $POSTGRES_LISTEN, default '*'). Extra arguments go to postgres.
# With a read-only root filesystem, /var/run/postgresql (the socket) must be a tmpfs.
set -eu

: "${PGDATA:=/var/lib/postgresql/data}" "${PGPORT:=5432}" "${POSTGRES_LISTEN:=*}"
socket_dir=/var/run/postgresql

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  # A first start that fails leaves nothing behind: the next start initialises again.
  trap 'pg_ctl -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true; find "$PGDATA" -mindepth 1 -delete' EXIT
  [ -r "${POSTGRES_PASSWORD_FILE:-}" ] || { echo "POSTGRES_PASSWORD_FILE must name a readable file" >&2; exit 1; }
  initdb -D "$PGDATA" -U postgres --pwfile="$POSTGRES_PASSWORD_FILE" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  printf '%s\n' 'host all all 0.0.0.0/0 scram-sha-256' 'host all all ::/0 scram-sha-256' >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=$socket_dir" start >/dev/null
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) echo "init: $f"; sh "$f" ;;
      *.sql) echo "init: $f"; psql -v ON_ERROR_STOP=1 -q -h "$socket_dir" -U postgres -d postgres -f "$f" ;;
      *) ;;
    esac
  done
  pg_ctl -D "$PGDATA" -w -m fast stop >/dev/null
  trap - EXIT
  echo "initialised $PGDATA"
fi

exec postgres -D "$PGDATA" -c "port=$PGPORT" -c "listen_addresses=$POSTGRES_LISTEN" \
  -c "unix_socket_directories=$socket_dir" "$@"

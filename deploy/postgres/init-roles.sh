#!/bin/sh
# Run once by the PostgreSQL image at first start (mounted into /docker-entrypoint-initdb.d):
# one login role and one database per service, the database owned by its role and closed to
# everyone else, so no service can connect to another's database, let alone read its tables.
# Each role's password is read from /run/secrets/<service>-db-password (scripts/compose-secrets).
set -eu
for service in patients scheduling billing collections; do
  password=$(cat "/run/secrets/$service-db-password")
  psql -v ON_ERROR_STOP=1 -q -h /var/run/postgresql -U postgres -d postgres \
    -v role="$service" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
  # The schema belongs to the database's owner (pg_database_owner); nobody else may use it.
  psql -v ON_ERROR_STOP=1 -q -h /var/run/postgresql -U postgres -d "$service" \
    -c 'REVOKE ALL ON SCHEMA public FROM PUBLIC'
  echo "init: role and database $service"
done

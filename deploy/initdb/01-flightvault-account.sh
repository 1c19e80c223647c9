# FlightVault's own database account, created once, when the MariaDB data volume is empty.
# The mariadb image's entrypoint *sources* this file (it is deliberately not executable),
# as root, so its docker_process_sql helper is at hand. Its grants follow in
# 02-flightvault-grants.sql. The password comes from MARIADB_VAULT_PASSWORD (.env); escape it
# for a single-quoted SQL string so any character works.
: "${MARIADB_VAULT_PASSWORD:?set MARIADB_VAULT_PASSWORD in .env (see .env.example)}"
vault_password=${MARIADB_VAULT_PASSWORD//\\/\\\\}
vault_password=${vault_password//\'/\\\'}
docker_process_sql --database=mysql <<<"CREATE USER IF NOT EXISTS 'vault'@'%' IDENTIFIED BY '${vault_password}';"
unset vault_password

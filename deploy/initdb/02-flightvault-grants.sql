-- FlightVault's grants: exactly the README's (Database notes), nothing more.
-- Watching and finding need SELECT; restoring also needs INSERT, UPDATE, DELETE and
-- CREATE TEMPORARY TABLES (removals stage their keys in a temporary table).
-- tests/bot/test_compose.py checks these lines against the README and core/privileges,
-- and runs this file against a real MariaDB.
GRANT SELECT ON `flightvault_demo`.* TO 'vault'@'%';
GRANT INSERT, UPDATE, DELETE, CREATE TEMPORARY TABLES ON `flightvault_demo`.* TO 'vault'@'%';

-- The bot's own state (incidents, plans, outbox, audit trail) lives in a database of its
-- own: it creates its tables and indexes on first start and may add a column on upgrade.
CREATE DATABASE IF NOT EXISTS `flightvault_state`;
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX ON `flightvault_state`.* TO 'vault'@'%';

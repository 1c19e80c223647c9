"""MariaDB and versioning edge cases, each a small schema with one disaster."""

from __future__ import annotations

from tests.acceptance.scenario import Scenario, versioned

_SV = ") WITH SYSTEM VERSIONING"

THREE_LEVELS = Scenario(
    name="3-level cascade: customers -> orders -> order_lines",
    setup=(
        "CREATE TABLE customers (" + versioned("id INT PRIMARY KEY, region CHAR(2) NOT NULL") + _SV,
        "CREATE TABLE orders ("
        + versioned(
            "id INT PRIMARY KEY, customer_id INT NOT NULL, placed DATE NOT NULL,"
            " FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE"
        )
        + _SV,
        "CREATE TABLE order_lines ("
        + versioned(
            "order_id INT NOT NULL, line SMALLINT NOT NULL, sku VARCHAR(12) NOT NULL,"
            " qty INT NOT NULL, PRIMARY KEY (order_id, line),"
            " FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE"
        )
        + _SV,
        "INSERT INTO customers SELECT seq, ELT(1 + seq % 4, 'EU', 'US', 'IN', 'BR')"
        " FROM seq_1_to_1000",
        "INSERT INTO orders SELECT seq, 1 + seq % 1000, '2026-01-01' + INTERVAL seq % 300 DAY"
        " FROM seq_1_to_8000",
        "INSERT INTO order_lines SELECT o.seq, l.seq, CONCAT('SKU', (o.seq + l.seq) % 5000),"
        " 1 + l.seq FROM seq_1_to_8000 o JOIN seq_1_to_6 l",
    ),
    disaster=("DELETE FROM customers WHERE region = 'EU'",),
    table="customers",
    later=(
        "INSERT INTO customers VALUES (1001, 'EU')",
        "INSERT INTO orders VALUES (8001, 1001, '2026-11-01')",
        "INSERT INTO order_lines VALUES (8001, 1, 'SKU1', 3)",
        "UPDATE order_lines SET qty = 99 WHERE order_id = 2 AND line = 1",
    ),
)

SET_NULL = Scenario(
    name="ON DELETE SET NULL: deleted parents leave children unlinked",
    setup=(
        "CREATE TABLE teams (" + versioned("id INT PRIMARY KEY, name VARCHAR(20) NOT NULL") + _SV,
        "CREATE TABLE players ("
        + versioned(
            "id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, team_id INT NULL,"
            " FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE SET NULL"
        )
        + _SV,
        "INSERT INTO teams SELECT seq, CONCAT('Team ', seq) FROM seq_1_to_500",
        "INSERT INTO players SELECT seq, CONCAT('Player ', seq), IF(seq % 7 = 0, NULL,"
        " 1 + seq % 500) FROM seq_1_to_5000",
    ),
    disaster=("DELETE FROM teams WHERE id BETWEEN 101 AND 200",),
    table="teams",
    later=(
        "UPDATE players SET name = 'Transferred', team_id = 5 WHERE id = 1",
        "INSERT INTO players VALUES (5001, 'Rookie', 7)",
    ),
)

TYPES = Scenario(
    name="column fidelity: generated, invisible, JSON, FLOAT, BIT, charsets, collations",
    setup=(
        "CREATE TABLE items ("
        + versioned(
            "id INT PRIMARY KEY, name VARCHAR(40) COLLATE utf8mb4_general_ci NOT NULL,"
            " legacy VARCHAR(40) CHARACTER SET latin1 COLLATE latin1_swedish_ci,"
            " price DECIMAL(10,3) NOT NULL, weight FLOAT, ratio DOUBLE,"
            " qty INT NOT NULL, total DECIMAL(14,3) AS (price * qty) STORED,"
            " label VARCHAR(60) AS (CONCAT(name, ' x', qty)) VIRTUAL,"
            " secret VARCHAR(20) INVISIBLE DEFAULT 'hidden', attrs JSON, flags BIT(12),"
            " born YEAR, seen TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"
            " ON UPDATE CURRENT_TIMESTAMP(3), blob_col MEDIUMBLOB, tags SET('a','b','c'),"
            " kind ENUM('x','y','z')"
        )
        + _SV,
        "INSERT INTO items (id, name, legacy, price, weight, ratio, qty, secret, attrs, flags,"
        " born, seen, blob_col, tags, kind) SELECT seq, CONCAT('Item ', seq, ' 🚀'),"
        " CONCAT('Gr', CHAR(252), 'n ', seq), seq / 7, seq / 3, 1 / seq, seq % 13,"
        " CONCAT('s', seq), JSON_OBJECT('k', seq, 'v', CONCAT('x', seq)), seq % 4096,"
        " 1990 + seq % 30, '2024-01-01 00:00:00.123' + INTERVAL seq SECOND,"
        " UNHEX(SHA2(seq, 256)), ELT(1 + seq % 3, 'a', 'b,c', ''), ELT(1 + seq % 3, 'x', 'y', 'z')"
        " FROM seq_1_to_3000",
    ),
    # a case-only change is a change: a case-insensitive comparison would call it a no-op
    disaster=(
        "UPDATE items SET name = UPPER(name), qty = qty + 1, secret = 'leaked' WHERE id <= 900",
    ),
    table="items",
    later=("UPDATE items SET name = 'Later', seen = '2025-01-01' WHERE id = 2000",),
)

TRX_PRECISE = Scenario(
    name="transaction-precise versioning: one transaction, two tables",
    setup=(
        "CREATE TABLE accounts (id INT PRIMARY KEY, owner VARCHAR(20) NOT NULL,"
        " trx_start BIGINT UNSIGNED GENERATED ALWAYS AS ROW START INVISIBLE,"
        " trx_end BIGINT UNSIGNED GENERATED ALWAYS AS ROW END INVISIBLE,"
        " PERIOD FOR SYSTEM_TIME (trx_start, trx_end)) ENGINE=InnoDB WITH SYSTEM VERSIONING",
        "CREATE TABLE ledger (id INT PRIMARY KEY, account_id INT NOT NULL, amount INT NOT NULL,"
        " trx_start BIGINT UNSIGNED GENERATED ALWAYS AS ROW START INVISIBLE,"
        " trx_end BIGINT UNSIGNED GENERATED ALWAYS AS ROW END INVISIBLE,"
        " PERIOD FOR SYSTEM_TIME (trx_start, trx_end),"
        " FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE)"
        " ENGINE=InnoDB WITH SYSTEM VERSIONING",
        "INSERT INTO accounts SELECT seq, CONCAT('owner', seq) FROM seq_1_to_400",
        "INSERT INTO ledger SELECT seq, 1 + seq % 400, seq * 3 FROM seq_1_to_4000",
    ),
    disaster=(
        "DELETE FROM accounts WHERE id <= 100",
        "UPDATE ledger SET amount = 0 WHERE account_id > 300",
    ),
    table="accounts",
    later=(
        "INSERT INTO accounts VALUES (401, 'later')",
        "UPDATE ledger SET amount = 7 WHERE id = 150",
    ),
)

PARTITIONED = Scenario(
    name="PARTITION BY SYSTEM_TIME: history in its own partitions",
    setup=(
        "CREATE TABLE readings (sensor INT NOT NULL, at DATETIME(6) NOT NULL,"
        " value DOUBLE NOT NULL, PRIMARY KEY (sensor, at)) WITH SYSTEM VERSIONING"
        " PARTITION BY SYSTEM_TIME LIMIT 100000"
        " (PARTITION p0 HISTORY, PARTITION p1 HISTORY, PARTITION pn CURRENT)",
        "INSERT INTO readings SELECT s.seq, '2026-01-01' + INTERVAL m.seq MINUTE,"
        " s.seq + m.seq / 10 FROM seq_1_to_20 s JOIN seq_1_to_500 m",
    ),
    disaster=("DELETE FROM readings WHERE sensor <= 5",),
    table="readings",
    later=("INSERT INTO readings VALUES (21, '2026-02-01', 1.5)",),
)

ODD_NAMES = Scenario(
    name="reserved words and non-ASCII names",
    setup=(
        "CREATE TABLE `order` (`key` INT PRIMARY KEY, `select` VARCHAR(20) NOT NULL,"
        " `group` INT) WITH SYSTEM VERSIONING",
        "CREATE TABLE `café` (`naïve` INT NOT NULL, `order` INT NOT NULL, `größe` VARCHAR(10),"
        " PRIMARY KEY (`naïve`, `order`), FOREIGN KEY (`order`) REFERENCES `order` (`key`)"
        " ON DELETE CASCADE) WITH SYSTEM VERSIONING",
        "INSERT INTO `order` SELECT seq, CONCAT('sel', seq), seq % 5 FROM seq_1_to_600",
        "INSERT INTO `café` SELECT n.seq, o.seq, CONCAT('grande', n.seq)"
        " FROM seq_1_to_3 n JOIN seq_1_to_600 o",
    ),
    disaster=("DELETE FROM `order` WHERE `group` = 3",),
    table="order",
    later=("INSERT INTO `order` VALUES (601, 'later', 3)",),
)

UNIQUE_IDENTITY = Scenario(
    name="no primary key: a UNIQUE key over NOT NULL columns is the row identity",
    setup=(
        "CREATE TABLE subscribers (email VARCHAR(80) NOT NULL, name VARCHAR(40),"
        " plan VARCHAR(10) NOT NULL, UNIQUE KEY uq_email (email)) WITH SYSTEM VERSIONING",
        "INSERT INTO subscribers SELECT CONCAT('user', seq, '@example.org'), CONCAT('User ', seq),"
        " ELT(1 + seq % 3, 'free', 'pro', 'team') FROM seq_1_to_2000",
    ),
    disaster=("DELETE FROM subscribers WHERE plan = 'pro'",),
    table="subscribers",
    later=("INSERT INTO subscribers VALUES ('late@example.org', 'Late', 'pro')",),
)

SELF_REFERENCE = Scenario(
    name="self-referencing key: MariaDB cascades one level, the rest is left dangling",
    setup=(
        "CREATE TABLE staff ("
        + versioned(
            "id INT PRIMARY KEY, manager_id INT NULL, name VARCHAR(20) NOT NULL,"
            " FOREIGN KEY (manager_id) REFERENCES staff (id) ON DELETE CASCADE"
        )
        + _SV,
        "INSERT INTO staff VALUES (1, NULL, 'CEO')",
        "INSERT INTO staff SELECT 1 + seq, 1, CONCAT('VP', seq) FROM seq_1_to_9",
        "INSERT INTO staff SELECT 10 + seq, 2 + seq % 9, CONCAT('Dir', seq) FROM seq_1_to_90",
        "INSERT INTO staff SELECT 100 + seq, 11 + seq % 90, CONCAT('Eng', seq) FROM seq_1_to_900",
    ),
    disaster=("DELETE FROM staff WHERE id IN (2, 3)",),
    table="staff",
    later=("INSERT INTO staff VALUES (2000, 4, 'New hire')",),
)

KEY_SHIFT = Scenario(
    name="key change that overlaps old keys: id = id + 1, children ON UPDATE CASCADE",
    setup=(
        "CREATE TABLE shelves ("
        + versioned("id INT PRIMARY KEY, label VARCHAR(20) NOT NULL UNIQUE")
        + _SV,
        "CREATE TABLE books ("
        + versioned(
            "id INT PRIMARY KEY, shelf_id INT NOT NULL, title VARCHAR(40) NOT NULL,"
            " FOREIGN KEY (shelf_id) REFERENCES shelves (id) ON DELETE RESTRICT ON UPDATE CASCADE"
        )
        + _SV,
        "INSERT INTO shelves SELECT seq, CONCAT('shelf-', seq) FROM seq_1_to_300",
        "INSERT INTO books SELECT seq, 1 + seq % 300, CONCAT('Book ', seq) FROM seq_1_to_3000",
    ),
    disaster=("UPDATE shelves SET id = id + 1 WHERE id >= 200 ORDER BY id DESC",),
    table="shelves",
    later=("INSERT INTO books VALUES (3001, 5, 'Later book')",),
)

SCENARIOS = (
    THREE_LEVELS,
    SET_NULL,
    TYPES,
    TRX_PRECISE,
    PARTITIONED,
    ODD_NAMES,
    UNIQUE_IDENTITY,
    SELF_REFERENCE,
    KEY_SHIFT,
)

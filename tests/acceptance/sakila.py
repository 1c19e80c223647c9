"""A Sakila-shaped schema (after MySQL's Sakila sample database), all system-versioned.

Sakila's types (YEAR, ENUM, SET, DECIMAL, BLOB, BOOLEAN, TIMESTAMP ... ON
UPDATE, GEOMETRY with a SPATIAL key, FULLTEXT), its ON UPDATE CASCADE keys
and its triggers: ``ins_film``/``upd_film``/``del_film`` keep ``film_text``
in step with ``film``, and ``customer_create_date``, ``rental_date`` and
``payment_date`` stamp ``NOW()`` on every insert. The delete rules are
Sakila's (RESTRICT) except where a scenario needs a cascade, as noted.
"""

from __future__ import annotations

from tests.acceptance.scenario import Scenario, versioned

_STAMP = "last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP"
_SV = ") WITH SYSTEM VERSIONING"


def _t(name: str, columns: str, *, indexed: bool = True) -> str:
    return f"CREATE TABLE {name} (" + versioned(columns, indexed=indexed) + _SV


TABLES = (
    _t(
        "country",
        f"country_id SMALLINT UNSIGNED PRIMARY KEY, country VARCHAR(50) NOT NULL, {_STAMP}",
    ),
    _t(
        "city",
        "city_id SMALLINT UNSIGNED PRIMARY KEY, city VARCHAR(50) NOT NULL,"
        f" country_id SMALLINT UNSIGNED NOT NULL, {_STAMP},"
        " CONSTRAINT fk_city_country FOREIGN KEY (country_id) REFERENCES country (country_id)"
        " ON DELETE RESTRICT ON UPDATE CASCADE",
    ),
    _t(
        "address",
        "address_id SMALLINT UNSIGNED PRIMARY KEY, address VARCHAR(50) NOT NULL,"
        " district VARCHAR(20) NOT NULL, city_id SMALLINT UNSIGNED NOT NULL,"
        " postal_code VARCHAR(10), phone VARCHAR(20) NOT NULL, location GEOMETRY NOT NULL,"
        f" {_STAMP}, SPATIAL KEY idx_location (location),"
        " CONSTRAINT fk_address_city FOREIGN KEY (city_id) REFERENCES city (city_id)"
        " ON DELETE RESTRICT ON UPDATE CASCADE",
    ),
    _t("language", f"language_id TINYINT UNSIGNED PRIMARY KEY, name CHAR(20) NOT NULL, {_STAMP}"),
    _t(
        "film",
        "film_id SMALLINT UNSIGNED PRIMARY KEY, title VARCHAR(128) NOT NULL, description TEXT,"
        " release_year YEAR, language_id TINYINT UNSIGNED NOT NULL,"
        " rental_duration TINYINT UNSIGNED NOT NULL DEFAULT 3,"
        " rental_rate DECIMAL(4,2) NOT NULL DEFAULT 4.99, length SMALLINT UNSIGNED,"
        " replacement_cost DECIMAL(5,2) NOT NULL DEFAULT 19.99,"
        " rating ENUM('G','PG','PG-13','R','NC-17') DEFAULT 'G',"
        " special_features SET('Trailers','Commentary','Deleted Scenes','Behind the Scenes'),"
        f" {_STAMP}, KEY idx_title (title),"
        " CONSTRAINT fk_film_language FOREIGN KEY (language_id) REFERENCES language (language_id)"
        " ON DELETE RESTRICT ON UPDATE CASCADE",
    ),
    _t(
        "film_text",
        "film_id SMALLINT UNSIGNED PRIMARY KEY, title VARCHAR(255) NOT NULL, description TEXT,"
        " FULLTEXT KEY idx_title_description (title, description)",
    ),
    _t(
        "actor",
        f"actor_id SMALLINT UNSIGNED PRIMARY KEY, first_name VARCHAR(45) NOT NULL,"
        f" last_name VARCHAR(45) NOT NULL, {_STAMP}",
    ),
    _t(
        "film_actor",
        "actor_id SMALLINT UNSIGNED NOT NULL, film_id SMALLINT UNSIGNED NOT NULL,"
        f" {_STAMP}, PRIMARY KEY (actor_id, film_id),"
        " CONSTRAINT fk_film_actor_actor FOREIGN KEY (actor_id) REFERENCES actor (actor_id)"
        " ON DELETE RESTRICT ON UPDATE CASCADE,"
        # Sakila says RESTRICT; CASCADE here so that deleting films reaches it
        " CONSTRAINT fk_film_actor_film FOREIGN KEY (film_id) REFERENCES film (film_id)"
        " ON DELETE CASCADE ON UPDATE CASCADE",
    ),
    _t(
        "staff",
        "staff_id TINYINT UNSIGNED PRIMARY KEY, first_name VARCHAR(45) NOT NULL,"
        " last_name VARCHAR(45) NOT NULL, address_id SMALLINT UNSIGNED NOT NULL, picture BLOB,"
        " email VARCHAR(50), active BOOLEAN NOT NULL DEFAULT TRUE,"
        " username VARCHAR(16) NOT NULL, password VARCHAR(40) BINARY, flags BIT(5),"
        f" {_STAMP}, CONSTRAINT fk_staff_address FOREIGN KEY (address_id)"
        " REFERENCES address (address_id) ON DELETE RESTRICT ON UPDATE CASCADE",
    ),
    _t(
        "customer",
        "customer_id SMALLINT UNSIGNED PRIMARY KEY, store_id TINYINT UNSIGNED NOT NULL,"
        " first_name VARCHAR(45) NOT NULL, last_name VARCHAR(45) NOT NULL, email VARCHAR(50),"
        " address_id SMALLINT UNSIGNED NOT NULL, active BOOLEAN NOT NULL DEFAULT TRUE,"
        f" create_date DATETIME NOT NULL, {_STAMP},"
        " CONSTRAINT fk_customer_address FOREIGN KEY (address_id) REFERENCES address (address_id)"
        " ON DELETE RESTRICT ON UPDATE CASCADE",
    ),
    _t(
        "inventory",
        "inventory_id MEDIUMINT UNSIGNED PRIMARY KEY, film_id SMALLINT UNSIGNED NOT NULL,"
        f" store_id TINYINT UNSIGNED NOT NULL, {_STAMP},"
        " CONSTRAINT fk_inventory_film FOREIGN KEY (film_id) REFERENCES film (film_id)"
        " ON DELETE RESTRICT ON UPDATE CASCADE",
    ),
    _t(
        "rental",
        "rental_id INT PRIMARY KEY, rental_date DATETIME NOT NULL,"
        " inventory_id MEDIUMINT UNSIGNED NOT NULL, customer_id SMALLINT UNSIGNED NOT NULL,"
        f" return_date DATETIME, staff_id TINYINT UNSIGNED NOT NULL, {_STAMP},"
        " UNIQUE KEY rental_date (rental_date, inventory_id, customer_id),"
        " CONSTRAINT fk_rental_inventory FOREIGN KEY (inventory_id)"
        " REFERENCES inventory (inventory_id) ON DELETE RESTRICT ON UPDATE CASCADE,"
        # Sakila says RESTRICT; CASCADE so that deleting customers reaches rentals
        " CONSTRAINT fk_rental_customer FOREIGN KEY (customer_id)"
        " REFERENCES customer (customer_id) ON DELETE CASCADE ON UPDATE CASCADE",
    ),
    _t(
        "payment",
        "payment_id SMALLINT UNSIGNED PRIMARY KEY, customer_id SMALLINT UNSIGNED NOT NULL,"
        " staff_id TINYINT UNSIGNED NOT NULL, rental_id INT DEFAULT NULL,"
        f" amount DECIMAL(5,2) NOT NULL, payment_date DATETIME NOT NULL, {_STAMP},"
        " CONSTRAINT fk_payment_rental FOREIGN KEY (rental_id) REFERENCES rental (rental_id)"
        " ON DELETE SET NULL ON UPDATE CASCADE,"
        " CONSTRAINT fk_payment_customer FOREIGN KEY (customer_id)"
        " REFERENCES customer (customer_id) ON DELETE CASCADE ON UPDATE CASCADE",
    ),
)

TRIGGERS = (
    "CREATE TRIGGER ins_film AFTER INSERT ON film FOR EACH ROW"
    " INSERT INTO film_text (film_id, title, description)"
    " VALUES (new.film_id, new.title, new.description)",
    "CREATE TRIGGER upd_film AFTER UPDATE ON film FOR EACH ROW"
    " UPDATE film_text SET title = new.title, description = new.description,"
    " film_id = new.film_id WHERE film_id = old.film_id",
    "CREATE TRIGGER del_film AFTER DELETE ON film FOR EACH ROW"
    " DELETE FROM film_text WHERE film_id = old.film_id",
    "CREATE TRIGGER customer_create_date BEFORE INSERT ON customer"
    " FOR EACH ROW SET NEW.create_date = NOW()",
    "CREATE TRIGGER rental_date BEFORE INSERT ON rental FOR EACH ROW SET NEW.rental_date = NOW()",
    "CREATE TRIGGER payment_date BEFORE INSERT ON payment FOR EACH ROW"
    " SET NEW.payment_date = NOW()",
)

# Rows as Sakila has them, generated. Triggers come after the data, as in sakila-data.sql
# (which loads with the triggers in place but from a dump that sets the dates explicitly).
DATA = (
    "INSERT INTO country (country_id, country) SELECT seq, CONCAT('Country ', seq)"
    " FROM seq_1_to_109",
    "INSERT INTO city (city_id, city, country_id) SELECT seq, CONCAT('City ', seq),"
    " 1 + seq % 109 FROM seq_1_to_600",
    "INSERT INTO address (address_id, address, district, city_id, postal_code, phone, location)"
    " SELECT seq, CONCAT(seq, ' Main Street'), 'Alberta', 1 + seq % 600, LPAD(seq, 5, '0'),"
    " CONCAT('555', seq), ST_GeomFromText(CONCAT('POINT(', CAST(seq % 180 AS SIGNED) - 90, ' ',"
    " CAST(seq % 360 AS SIGNED) - 180, ')'), 4326) FROM seq_1_to_700",
    "INSERT INTO language (language_id, name) VALUES (1, 'English'), (2, 'Italian'),"
    " (3, 'Japanese'), (4, 'Mandarin'), (5, 'French'), (6, 'German')",
    "INSERT INTO film (film_id, title, description, release_year, language_id, length,"
    " rental_rate, replacement_cost, rating, special_features)"
    " SELECT seq, CONCAT('FILM TITLE ', seq), CONCAT('A Epic Drama of a Feminist in Soviet"
    " Georgia number ', seq), 2006, 1 + seq % 6, 46 + seq % 140, 0.99 + (seq % 3) * 2,"
    " 9.99 + seq % 21, ELT(1 + seq % 5, 'G', 'PG', 'PG-13', 'R', 'NC-17'),"
    " ELT(1 + seq % 4, 'Trailers', 'Commentary,Deleted Scenes', 'Behind the Scenes', NULL)"
    " FROM seq_1_to_1000",
    "INSERT INTO film_text SELECT film_id, title, description FROM film",
    "INSERT INTO actor (actor_id, first_name, last_name) SELECT seq, CONCAT('ACTOR', seq),"
    " CONCAT('SURNAME', seq % 120) FROM seq_1_to_200",
    "INSERT INTO film_actor (actor_id, film_id) SELECT 1 + (f.seq * 7 + a.seq * 31) % 200,"
    " f.seq FROM seq_1_to_1000 f JOIN seq_1_to_5 a",
    "INSERT INTO staff (staff_id, first_name, last_name, address_id, picture, email, username,"
    " password, flags) VALUES (1, 'Mike', 'Hillyer', 3, UNHEX('89504E470D0A1A0A0000'),"
    " 'Mike.Hillyer@sakilastaff.com', 'Mike', '8cb2237d0679ca88db6464eac60da96345513964',"
    " b'10101'),"
    " (2, 'Jon', 'Stephens', 4, NULL, 'Jon.Stephens@sakilastaff.com', 'Jon', NULL, b'00011')",
    "INSERT INTO customer (customer_id, store_id, first_name, last_name, email, address_id,"
    " active, create_date) SELECT seq, 1 + seq % 2, CONCAT('FIRST', seq), CONCAT('LAST', seq),"
    " CONCAT('customer', seq, '@sakilacustomer.org'), 5 + seq, seq % 17 <> 0,"
    " '2006-02-14 22:04:36' + INTERVAL seq MINUTE FROM seq_1_to_600",
    # inventory only for the first 500 films: the others can be deleted (RESTRICT)
    "INSERT INTO inventory (inventory_id, film_id, store_id) SELECT seq, 1 + seq % 500,"
    " 1 + seq % 2 FROM seq_1_to_2000",
    "INSERT INTO rental (rental_id, rental_date, inventory_id, customer_id, return_date, staff_id)"
    " SELECT seq, '2005-05-24 22:53:30' + INTERVAL seq * 37 MINUTE, 1 + (seq * 13) % 2000,"
    " 1 + seq % 600, '2005-05-26 22:04:30' + INTERVAL seq * 37 MINUTE, 1 + seq % 2"
    " FROM seq_1_to_6000",
    "INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date)"
    " SELECT seq, 1 + seq % 600, 1 + seq % 2, IF(seq % 10 = 0, NULL, seq), 0.99 + seq % 10,"
    " '2005-05-25 11:30:37' + INTERVAL seq * 37 MINUTE FROM seq_1_to_6000",
)

SETUP = (*TABLES, *DATA, *TRIGGERS)

FILMS = Scenario(
    name="sakila: NC-17 films deleted; del_film empties film_text, film_actor cascades",
    setup=SETUP,
    disaster=("DELETE FROM film WHERE rating = 'NC-17' AND film_id > 500",),
    table="film",
    later=(
        "INSERT INTO film (film_id, title, language_id, rating, special_features)"
        " VALUES (1001, 'NEW RELEASE', 1, 'PG', 'Trailers,Commentary')",
        "UPDATE film SET rental_rate = 1.99, last_update = '2026-01-01 00:00:00' WHERE film_id = 2",
        "INSERT INTO film_actor (actor_id, film_id) VALUES (1, 1001)",
    ),
)

CUSTOMERS = Scenario(
    name="sakila: store 2's customers deleted; payments and rentals cascade under NOW() triggers",
    # one rental per (inventory, customer) pair among the lost rows, so re-inserting them
    # all at one NOW() does not collide on rental's UNIQUE (rental_date, ...) key
    setup=SETUP,
    disaster=("DELETE FROM customer WHERE store_id = 2 AND customer_id <= 60",),
    table="customer",
    later=(
        "INSERT INTO payment (payment_id, customer_id, staff_id, amount, payment_date)"
        " VALUES (6001, 2, 1, 5.99, '2026-01-01')",
        "UPDATE customer SET email = 'new@example.org', last_update = '2026-01-01 00:00:00'"
        " WHERE customer_id = 2",
    ),
)

COUNTRY_KEYS = Scenario(
    name="sakila: country ids renumbered; ON UPDATE CASCADE rewrote city",
    setup=SETUP,
    disaster=("UPDATE country SET country_id = country_id + 1000 WHERE country_id <= 60",),
    table="country",
    later=(
        "INSERT INTO country (country_id, country, last_update) VALUES (500, 'Freedonia',"
        " '2026-01-01 00:00:00')",
        "UPDATE city SET city = 'Renamed later', last_update = '2026-01-01 00:00:00'"
        " WHERE city_id = 200",  # its country (92) was not renumbered
    ),
)

ADDRESSES = Scenario(
    name="sakila: unused addresses deleted (GEOMETRY with a SPATIAL key)",
    setup=SETUP,
    disaster=("DELETE FROM address WHERE address_id > 620",),
    table="address",
    later=(
        "INSERT INTO address (address_id, address, district, city_id, phone, location)"
        " VALUES (701, '1 New Road', 'QLD', 5, '555', ST_GeomFromText('POINT(1 2)', 4326))",
    ),
)

SCENARIOS = (FILMS, CUSTOMERS, COUNTRY_KEYS, ADDRESSES)

# Rentals re-inserted by one statement all get the same NOW() from the rental_date trigger;
# two lost rentals of the same inventory item by the same customer then collide on the
# UNIQUE (rental_date, inventory_id, customer_id) key: the rehearsal refuses the plan.
RENTAL_CLASH = Scenario(
    name="sakila: a rental_date trigger makes the restore impossible; refused before approval",
    setup=(
        *TABLES,
        *DATA,
        "INSERT INTO rental (rental_id, rental_date, inventory_id, customer_id, staff_id)"
        " VALUES (7001, '2005-06-01', 7, 50, 1), (7002, '2005-07-01', 7, 50, 1)",
        *TRIGGERS,
    ),
    disaster=("DELETE FROM customer WHERE customer_id BETWEEN 41 AND 100",),
    table="customer",
    refused="`rental_date` on `rental`",
)

"""Small schemas the core tests share."""

SHOP = (
    # implicit period columns, timestamp versioning
    "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40), city VARCHAR(40))"
    " WITH SYSTEM VERSIONING",
    # explicit, indexed row_end; child of customers with ON DELETE CASCADE
    "CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, total INT,"
    " row_start TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,"
    " row_end TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,"
    " PERIOD FOR SYSTEM_TIME (row_start, row_end), INDEX ix_end (row_end),"
    " CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)"
    " ON DELETE CASCADE) WITH SYSTEM VERSIONING",
    # composite key, transaction-precise versioning, no index on row_end
    "CREATE TABLE stock (warehouse CHAR(3), sku VARCHAR(10), qty INT,"
    " trx_start BIGINT UNSIGNED GENERATED ALWAYS AS ROW START INVISIBLE,"
    " trx_end BIGINT UNSIGNED GENERATED ALWAYS AS ROW END INVISIBLE,"
    " PERIOD FOR SYSTEM_TIME (trx_start, trx_end), PRIMARY KEY (warehouse, sku))"
    " ENGINE=InnoDB WITH SYSTEM VERSIONING",
    # not versioned, references customers: its cascaded rows keep no history
    "CREATE TABLE notes (id INT PRIMARY KEY, customer_id INT,"
    " FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE SET NULL)",
    # versioned but no primary key
    "CREATE TABLE audit_log (msg VARCHAR(40)) WITH SYSTEM VERSIONING",
    "INSERT INTO customers VALUES (1, 'Asha', 'Mumbai'), (2, 'Ben', 'Leeds'),"
    " (3, 'Chen', 'Mumbai')",
    "INSERT INTO orders (id, customer_id, total) VALUES (10, 1, 100), (11, 1, 50), (12, 2, 75)",
    "INSERT INTO stock (warehouse, sku, qty) VALUES ('BOM', 'A1', 5), ('BOM', 'B2', 7),"
    " ('LHR', 'A1', 3)",
)

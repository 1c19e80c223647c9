"""A station network: 1,000 stations (100 in Mumbai), 3 trips each, cascading."""

STATIONS = (
    "CREATE TABLE stations (id INT PRIMARY KEY, code CHAR(6) NOT NULL UNIQUE,"
    " name VARCHAR(60) NOT NULL, city VARCHAR(40) NOT NULL, opened DATE,"
    " row_start TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,"
    " row_end TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,"
    " PERIOD FOR SYSTEM_TIME (row_start, row_end), INDEX (row_end)) WITH SYSTEM VERSIONING",
    "CREATE TABLE trips (id INT PRIMARY KEY, station_id INT NOT NULL, fare INT NOT NULL,"
    " row_start TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,"
    " row_end TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,"
    " PERIOD FOR SYSTEM_TIME (row_start, row_end), INDEX (row_end),"
    " CONSTRAINT fk_trips_station FOREIGN KEY (station_id) REFERENCES stations (id)"
    " ON DELETE CASCADE) WITH SYSTEM VERSIONING",
    "INSERT INTO stations (id, code, name, city, opened)"
    " SELECT seq, CONCAT('S', LPAD(seq, 5, '0')), CONCAT('Station ', seq),"
    " IF(seq % 10 = 0, 'Mumbai', 'Elsewhere'), '2020-01-01' FROM seq_1_to_1000",
    "INSERT INTO trips (id, station_id, fare) SELECT seq, 1 + (seq - 1) % 1000, seq % 97"
    " FROM seq_1_to_3000",
)

"""The demo schema: real airports, generated airlines and routes.

``airports`` holds the ``airportsdata`` package's ~28,000 airports; ``airlines``
and ``routes`` are generated from a fixed seed so every run is identical.
All three are system-versioned with explicit, indexed period columns, which
is how we recommend watched tables be declared.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.errors import DemoDataRefused

DEMO_TABLES = ("airports", "airlines", "routes")
_PERIOD = """,
  row_start TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,
  row_end TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,
  PERIOD FOR SYSTEM_TIME (row_start, row_end),
  INDEX ix_row_end (row_end),
  INDEX ix_row_start (row_start)"""

DDL = {
    "airports": f"""CREATE TABLE airports (
  id INT UNSIGNED NOT NULL PRIMARY KEY,
  icao CHAR(4) NOT NULL UNIQUE,
  iata CHAR(3) NULL,
  name VARCHAR(120) NOT NULL,
  city VARCHAR(80) NOT NULL,
  subdivision VARCHAR(80) NULL,
  country CHAR(2) NOT NULL,
  elevation_ft INT NULL,
  lat DECIMAL(9,6) NOT NULL,
  lon DECIMAL(9,6) NOT NULL,
  tz VARCHAR(40) NOT NULL,
  INDEX ix_city (city){_PERIOD}
) ENGINE=InnoDB WITH SYSTEM VERSIONING""",
    "airlines": f"""CREATE TABLE airlines (
  id INT UNSIGNED NOT NULL PRIMARY KEY,
  code CHAR(2) NOT NULL UNIQUE,
  name VARCHAR(80) NOT NULL,
  country CHAR(2) NOT NULL{_PERIOD}
) ENGINE=InnoDB WITH SYSTEM VERSIONING""",
    "routes": f"""CREATE TABLE routes (
  id INT UNSIGNED NOT NULL PRIMARY KEY,
  airline_id INT UNSIGNED NOT NULL,
  origin_id INT UNSIGNED NOT NULL,
  destination_id INT UNSIGNED NOT NULL,
  stops TINYINT UNSIGNED NOT NULL DEFAULT 0,
  CONSTRAINT fk_routes_airline FOREIGN KEY (airline_id) REFERENCES airlines (id)
    ON DELETE RESTRICT,
  CONSTRAINT fk_routes_origin FOREIGN KEY (origin_id) REFERENCES airports (id)
    ON DELETE CASCADE,
  CONSTRAINT fk_routes_destination FOREIGN KEY (destination_id) REFERENCES airports (id)
    ON DELETE CASCADE{_PERIOD}
) ENGINE=InnoDB WITH SYSTEM VERSIONING""",
}

_AIRPORTS = sa.table(
    "airports",
    *map(
        sa.column,
        [
            "id",
            "icao",
            "iata",
            "name",
            "city",
            "subdivision",
            "country",
            "elevation_ft",
            "lat",
            "lon",
            "tz",
        ],
    ),
)
_AIRLINES = sa.table("airlines", *map(sa.column, ["id", "code", "name", "country"]))
_ROUTES = sa.table(
    "routes", *map(sa.column, ["id", "airline_id", "origin_id", "destination_id", "stops"])
)
_HUB_CITIES = ("Mumbai", "London", "Frankfurt", "Dubai", "Singapore", "New York", "Tokyo")


@dataclass(frozen=True, slots=True)
class DemoSummary:
    created: bool
    airports: int
    airlines: int
    routes: int


def seed_demo(conn: Connection, *, routes: int = 30_000, force: bool = False) -> DemoSummary:
    """Create and fill the demo tables; a second run finds them and does nothing."""
    existing = set(sa.inspect(conn).get_table_names())
    others = sorted(existing - set(DEMO_TABLES))
    if others and not force:
        raise DemoDataRefused(
            f"Database already holds other tables ({', '.join(others[:5])}); "
            "point VAULT_DATABASE_URL at an empty database or pass --force."
        )
    created = not set(DEMO_TABLES) <= existing
    if created:
        for name in reversed(DEMO_TABLES):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
        for name in DEMO_TABLES:
            conn.execute(sa.text(DDL[name]))
        airports = list(_airport_rows())
        _insert(conn, _AIRPORTS, airports)
        _insert(conn, _AIRLINES, list(_airline_rows()))
        _insert(conn, _ROUTES, list(_route_rows(airports, routes)))
    return DemoSummary(created, *(_count(conn, n) for n in DEMO_TABLES))


def _count(conn: Connection, name: str) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one())


def _insert(conn: Connection, table: sa.TableClause, rows: list[dict[str, object]]) -> None:
    for i in range(0, len(rows), 5000):
        conn.execute(table.insert(), rows[i : i + 5000])


def _airport_rows() -> Iterator[dict[str, object]]:
    import airportsdata

    data = airportsdata.load("ICAO")
    for i, icao in enumerate(sorted(data), start=1):
        a = data[icao]
        yield {
            "id": i,
            "icao": icao,
            "iata": a["iata"] or None,
            "name": a["name"][:120],
            "city": a["city"][:80],
            "subdivision": a["subd"][:80] or None,
            "country": a["country"][:2],
            "elevation_ft": int(a["elevation"]) if a["elevation"] is not None else None,
            "lat": round(float(a["lat"]), 6),
            "lon": round(float(a["lon"]), 6),
            "tz": a["tz"][:40],
        }


def _airline_rows(count: int = 300) -> Iterator[dict[str, object]]:
    rng = random.Random(7)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    codes = sorted({a + b for a in letters for b in letters})
    rng.shuffle(codes)
    countries = ["IN", "GB", "DE", "AE", "SG", "US", "JP", "FR", "BR", "AU"]
    for i, code in enumerate(codes[:count], start=1):
        yield {"id": i, "code": code, "name": f"{code} Airways", "country": rng.choice(countries)}


def _route_rows(airports: list[dict[str, object]], count: int) -> Iterator[dict[str, object]]:
    """Routes between airports with IATA codes, busier around a few hubs."""
    rng = random.Random(42)
    scheduled = [a["id"] for a in airports if a["iata"]]
    hubs = [a["id"] for a in airports if a["city"] in _HUB_CITIES and a["iata"]]
    for i in range(1, count + 1):
        origin = rng.choice(hubs) if rng.random() < 0.25 else rng.choice(scheduled)
        dest = rng.choice(scheduled)
        while dest == origin:
            dest = rng.choice(scheduled)
        if rng.random() < 0.5:
            origin, dest = dest, origin
        yield {
            "id": i,
            "airline_id": rng.randint(1, 300),
            "origin_id": origin,
            "destination_id": dest,
            "stops": 0 if rng.random() < 0.8 else 1,
        }

"""Measure the copy rate of ``ALTER … ADD SYSTEM VERSIONING`` (``VAULT_PROTECT_COPY_RATE``).

Builds an unversioned InnoDB table of ``--rows`` rows in a scratch database, protects
copies of it with the exact statement ``/vault protect`` runs, and prints each run's
bytes per second, their median, and the ratio of the median to the configured default.
Run: ``.venv/bin/python -m bench.protect [--rows 300000] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import time

import sqlalchemy as sa

from bot.settings import Settings
from core.catalogue import load_catalogue
from core.db import make_engine
from core.protect import protect_statements, table_size

URL = os.environ.get("VAULT_BENCH_URL", "mariadb+mariadbconnector://root@127.0.0.1:3306/")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    name = f"fvbench_protect_{secrets.token_hex(4)}"
    admin = make_engine(URL + "mysql", poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}`")
    engine = make_engine(URL + name, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TABLE base (id INT PRIMARY KEY, a VARCHAR(60), b INT, c DATETIME,"
                " KEY (b)) ENGINE=InnoDB"
            )
            conn.exec_driver_sql(
                "INSERT INTO base SELECT seq, CONCAT('name ', seq, REPEAT('x', seq % 40)),"
                f" seq % 1000, NOW() FROM seq_1_to_{args.rows}"
            )
        rates = []
        for run in range(args.runs):
            with engine.connect() as conn:
                conn.exec_driver_sql(f"CREATE TABLE t{run} LIKE base")
                conn.exec_driver_sql(f"INSERT INTO t{run} SELECT * FROM base")
                conn.exec_driver_sql(f"ANALYZE TABLE t{run}")
                conn.commit()
                size = table_size(conn, name, f"t{run}")
                info = load_catalogue(conn).get(f"t{run}")
                began = time.monotonic()
                for statement in protect_statements(conn, info):
                    conn.exec_driver_sql(statement)
                seconds = time.monotonic() - began
            rates.append(size.total / seconds)
            print(
                f"run {run + 1}: {size.total:,} bytes in {seconds:.2f} s"
                f" = {rates[-1] / 1e6:.1f} MB/s"
            )
        median = statistics.median(rates)
        default = Settings.model_fields["vault_protect_copy_rate"].default
        print(
            f"median {median / 1e6:.1f} MB/s; ratio to the VAULT_PROTECT_COPY_RATE default:"
            f" {median / default:.2f}"
        )
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()
        engine.dispose()


if __name__ == "__main__":
    main()

"""FlightVault's domain logic: temporal-table catalogue, history, snapshots.

Plain Python over SQLAlchemy Core. Nothing here imports Slack, reads the
environment or holds global state; callers pass engines and connections in.
"""

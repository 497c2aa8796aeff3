"""The station's sync hub: the batch packages of ``core.sync`` over HTTP on the local network.

``main.py hub --db URL --host H --port P`` (``hub.command``) serves the Starlette app
(``hub.app``) over the hub's state (``hub.service``) with uvicorn (``hub.server``). The
database is the station's: an SQLite file for one station, or PostgreSQL for a county or
city hub (docs/sync-format.md "HTTP hub"). This package is an interface beside ``gui`` and
``cli``: it reaches the database only through ``core``. Importing it loads no web framework;
``hub.command`` is what the entry point registers.
"""

"""The ledger: every unit, duty, message, intake, submission, score and event, in SQL.

SQLite (a file under ``DUBAN_HOME``) by default, PostgreSQL when ``DUBAN_DATABASE_URL`` says so;
the schema is owned by Alembic migrations (``migrations/``), never by ``create_all``.
"""

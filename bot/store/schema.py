"""The schema's version: how many migrations :mod:`bot.store.migrations` holds.

Kept in the database header (``PRAGMA user_version``) once they are applied, so that opening a
database that is up to date needs neither the migrations nor sqlite-utils. A test keeps this
number equal to the migrations' count: add one here with every new migration.
"""

SCHEMA_VERSION = 9

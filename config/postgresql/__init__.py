"""Docent's PostgreSQL backend (ENGINE "config.postgresql", used with DB_POOL_MAX_SIZE): Django's own, with a
pool check that costs no round trip for a connection lent again moments after its last use (base.py)."""

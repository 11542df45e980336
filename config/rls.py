"""PostgreSQL row-level security: the second tenant wall, behind company scoping in code (accounts.scoping).

Every table holding a company's data has `FORCE ROW LEVEL SECURITY` and a policy that admits only the rows of
the company set for the current transaction (`docent.company_id`, see `CompanyPolicy`). Docent connects as a
login role that owns no table and is neither superuser nor BYPASSRLS; each request, task and socket message
runs in `company_transaction()`, which sets the company once the caller is known (`set_company`). The setting
is transaction-local, so it never outlives the transaction on a pooled connection, behind PgBouncer in
transaction mode, or on the replica.

Some work must happen before a company is known, or spans companies. It goes through
`dangerously_all_companies(way)`, which switches the transaction to the all-companies role (a NOLOGIN role
with BYPASSRLS that the login role may SET ROLE to) and back; `WayAround` is the complete list of such ways,
so a grep for its members finds every use. Migrations run as the tables' owner, on the `owner` alias.

The wall is on when DB_ALL_COMPANIES_ROLE is set on PostgreSQL. Without it (SQLite, or PostgreSQL reached as
a superuser or a BYPASSRLS role as before) these helpers change nothing, and the policies, though present on
PostgreSQL, do not apply to such a role.
"""

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, migrations, transaction

COMPANY_SETTING = "docent.company_id"
USER_SETTING = "docent.user_id"  # the signed-in user, whose own row `users` admits (say, one without a company)
OWNER = "owner"  # the alias of the tables' owner, for migrations


class WayAround(enum.Enum):
    """Every reason Docent reads or writes across companies; nothing else may."""

    SIGNING_IN = "signing a user in: by email and password, or by the user id a session names"
    SUPABASE_IDENTITY = "the user a Supabase identity belongs to, by its id or, on first use, by confirmed email"
    EMAIL_TAKEN = "whether an email already has an account, as an account's email is unique across companies"
    PASSWORD_RESET = "the accounts of an email a password reset is asked for, and the one its link names"
    KEY_BY_HASH = "a company API key or an integration's key, looked up before its company is known"
    CORS_ORIGINS = "the origins any company's widgets and iframes allow, the browser's gate before any key is read"
    WIDGET_SCRIPT = "the widget script: a chatbot's public settings (name, theme, welcome), by its id alone"
    CONVERSATION_BY_SESSION = "a conversation by its session id, before the caller is checked against it"
    SHOWN_DOCUMENT = "a document a chatbot shows its visitors, by the pair a signed link names"
    MEMBER_LEAVES = "a member taken out of their company: the row, once found in it, ends up in no company"
    INVITATION_TOKEN = "an invitation, found by its token before the invitee belongs to the company"
    SWEEPER = "the sweeper, which finds stuck data sources and lost webhook deliveries of every company"
    WARM_UP = "a web process's start, finding the companies whose search indexes it loads before questions come"
    ROLLUPS = "the analytics roll-ups, which total every company's conversations per day"
    WORKER_CLAIM = "a task worker, finding which company a queued data source or delivery belongs to"
    ADMIN = "Django admin, where superusers see every company"
    COMMANDS = "management commands an operator runs over every company (reindex, reprocess, recrawl, seed)"


def enforced(using: str = DEFAULT_DB_ALIAS) -> bool:
    return bool(settings.DB_ALL_COMPANIES_ROLE) and connections[using].vendor == "postgresql"


@contextmanager
def company_transaction(company_id=None, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """A transaction (a savepoint when one is open) in which the database admits the rows of `company_id`
    only, none while it is None, as the login role whatever the enclosing transaction had switched to.
    What the enclosing transaction had set holds again afterwards."""
    if not enforced(using):
        yield
        return
    with _transaction_with(using, role="none", company=_text(company_id), user=""):
        yield


def in_company_transaction(function, company_id=None, using: str = DEFAULT_DB_ALIAS):
    """`function`, each call in its own `company_transaction(company_id)`: work handed to another thread,
    whose connection is its own (a socket message, a step of an answer)."""
    @wraps(function)
    def scoped(*args, **kwargs):
        with company_transaction(company_id, using):
            return function(*args, **kwargs)
    return scoped


@contextmanager
def company_session(company_id, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Every transaction of this thread's connection admits `company_id` only, until the block ends: for
    processing a file, a long task whose many short transactions (progress, stages) others must see as they
    commit. The one session-level setting, so the task worker reaches PostgreSQL directly (its connection
    is its own for the task), not through PgBouncer in transaction mode."""
    if not enforced(using):
        yield
        return
    previous = _swap(using, local=False, role="none", company=_text(company_id))
    try:
        yield
    finally:
        _swap(using, local=False, **previous)


def set_company(company_id, using: str = DEFAULT_DB_ALIAS) -> None:
    """The company of the current `company_transaction()`, once the caller is known. Outside a transaction
    PostgreSQL ignores a transaction-local setting, so forgetting the transaction fails closed: no rows."""
    if enforced(using) and connections[using].in_atomic_block:
        _swap(using, company=_text(company_id))


def admit_user(user, using: str = DEFAULT_DB_ALIAS) -> None:
    """The current transaction admits the signed-in `user`'s own row (their last login, a new password), once
    a login, a session, an identity or a reset link names them; their company's rows wait for the scoping."""
    if user is not None and enforced(using) and connections[using].in_atomic_block:
        _swap(using, user=_text(user.pk))


def current_company(using: str = DEFAULT_DB_ALIAS) -> str:
    """The company the current transaction admits ("" for none)."""
    if not enforced(using):
        return ""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [COMPANY_SETTING])
        return cursor.fetchone()[0] or ""


@contextmanager
def dangerously_all_companies(way: WayAround, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Every company's rows, for one of the listed ways around the wall only."""
    if not isinstance(way, WayAround):
        raise TypeError(f"{way!r} is not one of the ways around row-level security listed in config.rls.")
    if not enforced(using):
        yield
        return
    with _transaction_with(using, role=settings.DB_ALL_COMPANIES_ROLE):
        yield


@contextmanager
def same_scope(alias: str) -> Iterator[None]:
    """A transaction on `alias` (the read replica) that admits what the primary's current transaction
    admits: the same company, or every company within a way around."""
    if not enforced(alias) or not enforced():
        yield
        return
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT current_setting('role'), current_setting(%s, true)", [COMPANY_SETTING])
        role, company = cursor.fetchone()
    with _transaction_with(alias, role=role, company=company or ""):
        yield


@contextmanager
def _transaction_with(using: str, **values: str) -> Iterator[None]:
    """A transaction (a savepoint when one is open) with these settings; the enclosing transaction's hold
    again afterwards (after an exception, the savepoint's rollback restores them)."""
    with transaction.atomic(using=using):
        previous = _swap(using, **values)
        yield
        _swap(using, **previous)


def _text(company_id) -> str:
    return "" if company_id is None else str(company_id)


def _swap(using: str, local: bool = True, **values: str) -> dict[str, str]:
    """Set transaction-local (or session) settings; return what they were."""
    names = {"role": "role", "company": COMPANY_SETTING, "user": USER_SETTING}
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join("current_setting(%s, true)" for _ in values),
                       [names[key] for key in values])
        previous = dict(zip(values, (value or "" for value in cursor.fetchone()), strict=True))
        cursor.execute("SELECT " + ", ".join("set_config(%s, %s, %s)" for _ in values),
                       [item for key, value in values.items() for item in (names[key], value, local)])
    return previous


def _current_sql(setting: str) -> str:
    return f"NULLIF(current_setting('{setting}', true), '')::uuid"


class CompanyPolicy(migrations.RunSQL):
    """Row-level security on `table`, forced on its owner too: only rows whose `column` is the current
    company. A table without a company column names its parent (`through=("parent_table", "fk_column")`)
    and admits the rows whose parent row is admitted; the parent's own policy applies inside the lookup,
    so keep such tables to those whose parent key is indexed. `users` (`own_row`) also admits the signed-in
    user's own row. PostgreSQL only; nothing on SQLite."""

    def __init__(self, table: str, column: str = "company_id", through: tuple[str, str] | None = None,
                 own_row: bool = False):
        if through:
            parent, foreign_key = through
            admits = f"EXISTS (SELECT 1 FROM {parent} WHERE {parent}.id = {table}.{foreign_key})"
        else:
            admits = f"{column} = {_current_sql(COMPANY_SETTING)}"
        if own_row:
            admits = f"{admits} OR id = {_current_sql(USER_SETTING)}"
        super().__init__(
            sql=[f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
                 f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
                 f"CREATE POLICY company_rows ON {table} USING ({admits}) WITH CHECK ({admits})"],
            reverse_sql=[f"DROP POLICY company_rows ON {table}",
                         f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
                         f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"])

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from psycopg import sql

from config import rls

TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


class Command(BaseCommand):
    help = ("Create (or bring up to date) the roles of row-level security (config.rls): the login role of "
            "DATABASE_URL, which owns no table and does not bypass row-level security, and the NOLOGIN "
            "DB_ALL_COMPANIES_ROLE it may switch to for the ways around; grant both the use of the tables, "
            "now and for tables later migrations create. Run it as a role that may create roles with BYPASSRLS "
            "(a superuser), on the owner alias: `manage.py row_security_roles --database owner`. Idempotent.")

    def add_arguments(self, parser):
        parser.add_argument("--database", default=rls.OWNER)
        parser.add_argument("--login", default=settings.DATABASES["default"]["USER"],
                            help="Docent's login role (default: DATABASE_URL's).")
        parser.add_argument("--password", default=settings.DATABASES["default"].get("PASSWORD") or None,
                            help="Its password, when the role is created or changed (default: DATABASE_URL's).")

    def handle(self, *args, database, login, password, **options):
        if not rls.enforced():
            raise CommandError("Set DB_ALL_COMPANIES_ROLE and a PostgreSQL DATABASE_URL first.")
        every_company = settings.DB_ALL_COMPANIES_ROLE
        with connections[database].cursor() as cursor:
            cursor.execute("SELECT current_user")
            owner = cursor.fetchone()[0]
            if login == owner:
                raise CommandError(f"DATABASE_URL logs in as {owner}, the tables' owner: "
                                   "give Docent a role of its own.")
            self._ensure_role(cursor, login, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE",
                              password)
            self._ensure_role(cursor, every_company, "NOLOGIN NOSUPERUSER BYPASSRLS", None)
            for statement in [
                "GRANT {every_company} TO {login}",
                "GRANT USAGE ON SCHEMA public TO {login}, {every_company}",
                f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO {{login}}, {{every_company}}",
                "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {login}, {every_company}",
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {{owner}} IN SCHEMA public "
                f"GRANT {TABLE_PRIVILEGES} ON TABLES TO {{login}}, {{every_company}}",
                "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
                "GRANT USAGE, SELECT ON SEQUENCES TO {login}, {every_company}",
            ]:
                cursor.execute(sql.SQL(statement).format(login=sql.Identifier(login), owner=sql.Identifier(owner),
                                                         every_company=sql.Identifier(every_company)))
        self.stdout.write(f"{login} logs in under row-level security; it may switch to {every_company} for the "
                          f"ways around; {owner} owns the tables.")

    def _ensure_role(self, cursor, name: str, attributes: str, password: str | None) -> None:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
        verb = "ALTER" if cursor.fetchone() else "CREATE"
        statement = sql.SQL(f"{verb} ROLE {{}} {attributes}").format(sql.Identifier(name))
        if password:
            statement += sql.SQL(" PASSWORD {}").format(sql.Literal(password))
        cursor.execute(statement)

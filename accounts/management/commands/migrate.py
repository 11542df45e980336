from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS, connections

from config import rls


class Command(migrate.Command):
    help = (migrate.Command.help + " Under row-level security (config.rls) the default database is migrated as "
            "the tables' owner (DATABASE_OWNER_URL): Docent's own login may not create or alter tables.")

    def handle(self, *args, **options):
        if options["database"] == DEFAULT_DB_ALIAS and rls.OWNER in connections.settings:
            owner = connections[rls.OWNER].settings_dict
            connections[DEFAULT_DB_ALIAS].close()
            connections[DEFAULT_DB_ALIAS].settings_dict.update({key: owner[key] for key in ("USER", "PASSWORD")})
        return super().handle(*args, **options)

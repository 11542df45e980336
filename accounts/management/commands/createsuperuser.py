from django.contrib.auth.management.commands import createsuperuser

from config import rls


class Command(createsuperuser.Command):
    help = (createsuperuser.Command.help + " A superuser belongs to no company, so under row-level security "
            "(config.rls) it is made through a way around the wall, as an operator's command.")

    def handle(self, *args, **options):
        with rls.dangerously_all_companies(rls.WayAround.COMMANDS, using=options["database"]):
            return super().handle(*args, **options)

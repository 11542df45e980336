from django.core.management.base import BaseCommand

from config import rls
from datasources.models import DataSource
from datasources.services import datasource_refresh


class Command(BaseCommand):
    help = ("Extract, chunk and embed the ready data sources again, in the background (the workers run it, "
            "as for an upload), each answering from its current chunks until its new ones are indexed. "
            "Run it after an upgrade that changes how text is extracted (see the README's upgrade notes).")

    def add_arguments(self, parser):
        parser.add_argument("--company", help="Only this company's data sources (id).")

    @rls.dangerously_all_companies(rls.WayAround.COMMANDS)
    def handle(self, *args, **options):
        sources = DataSource.objects.order_by("created_at")
        if options["company"]:
            sources = sources.filter(company_id=options["company"])
        queued = datasource_refresh(data_sources=sources)
        self.stdout.write(f"{queued} data source(s) queued to be extracted again; they stay online meanwhile.")

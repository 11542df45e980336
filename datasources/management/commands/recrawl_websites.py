from django.conf import settings
from django.core.management.base import BaseCommand

from config import rls
from datasources.services import websites_recrawl_due


class Command(BaseCommand):
    help = "Queue a re-crawl of the websites last crawled WEBSITE_RECRAWL_HOURS ago or more (run it from cron)."

    @rls.dangerously_all_companies(rls.WayAround.COMMANDS)
    def handle(self, *args, **options):
        count = websites_recrawl_due()
        self.stdout.write(f"{count} website(s) queued for a re-crawl (every {settings.WEBSITE_RECRAWL_HOURS} hours)")

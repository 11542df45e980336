from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.services import company_create
from config import rls

DEMO_EMAIL = "demo@docent.local"
DEMO_PASSWORD = "docent-demo-password"


class Command(BaseCommand):
    help = "Create the demo company and its owner login (idempotent)."

    @rls.dangerously_all_companies(rls.WayAround.COMMANDS)
    def handle(self, *args, **options):
        if User.objects.filter(email=DEMO_EMAIL).exists():
            self.stdout.write(f"Demo company already there; login {DEMO_EMAIL} / {DEMO_PASSWORD}")
            return
        company_create(company_name="Demo Company", name="Demo Owner", email=DEMO_EMAIL, password=DEMO_PASSWORD)
        self.stdout.write(self.style.SUCCESS(f"Created the demo company; login {DEMO_EMAIL} / {DEMO_PASSWORD}"))

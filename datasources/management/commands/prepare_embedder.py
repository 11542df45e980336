from django.core.management.base import BaseCommand

from datasources.embedders import embedder_identity, get_embedder


class Command(BaseCommand):
    help = ("Load the configured embedder once, building what its first use would build (the local model's "
            "question encoder, LOCAL_QUESTION_ENCODER), so that no web process waits for it at start. "
            "`make run` runs it at install time.")

    def handle(self, *args, **options):
        embedder = get_embedder()
        embedder.prepare()
        self.stdout.write(f"Embedder ready: {embedder_identity(embedder) if embedder.enabled else 'none'}")

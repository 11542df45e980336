from django.core.management.base import BaseCommand

from config import rls
from datasources.embedders import get_embedder
from datasources.indexes import index_chunks
from datasources.models import Chunk, DataSource
from datasources.pipeline import process
from datasources.services import datasource_reprocess


class Command(BaseCommand):
    help = ("Bring the indexes up to date: data sources embedded with another model than the configured "
            "one are processed again (re-chunked and re-embedded); the others have their stored chunks "
            "written to both indexes again: their vectors to the configured vector index (e.g. after "
            "switching to Pinecone), their words to a new lexical index (e.g. for data sources processed "
            "before lexical indexes were stored).")

    def add_arguments(self, parser):
        parser.add_argument("--company", help="Only this company's data sources (id).")
        parser.add_argument("--queue", action="store_true", help="Leave re-embedding to the workers.")

    @rls.dangerously_all_companies(rls.WayAround.COMMANDS)
    def handle(self, *args, **options):
        embedder = get_embedder()
        sources = DataSource.objects.filter(status=DataSource.Status.READY).order_by("created_at")
        if options["company"]:
            sources = sources.filter(company_id=options["company"])
        reembedded = rewritten = 0
        for source in sources:
            if source.embedding_model != embedder.model:
                datasource_reprocess(data_source=source, enqueue=options["queue"])
                if not options["queue"]:
                    process(str(source.id))
                reembedded += 1
                self.stdout.write(f"{source.name}: re-embedded")
            else:
                index_chunks(source, list(Chunk.objects.filter(data_source=source).order_by("position")))
                rewritten += 1
                self.stdout.write(f"{source.name}: indexed")
        self.stdout.write(f"{reembedded} data source(s) re-embedded with {embedder.model or 'no model'}, "
                          f"{rewritten} re-indexed from stored chunks")

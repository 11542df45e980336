"""Docent's ingestion, through the code the worker runs, on a throwaway SQLite database.

Each file goes through `datasource_upload` (size and plan checks, type sniffing, virus-scanner
hook, storage), then `datasources.pipeline.process`, exactly as the db_worker task calls it:
extraction in the sandboxed child, chunking, local embeddings, the local vector index. The
runs are called here rather than through `manage.py db_worker` so that this process is the
worker whose peak memory is measured, and the sandbox children are its own children.

Run by bench/ingest.py in its own process, with DOCENT_VAR_DIR pointing at a temporary folder:
    python -m bench.ingest_docent DOCS_DIR OUT_DIR
It writes OUT_DIR/stats.json (naming each file Docent refused, as a scanned PDF without text); the
chunks stay in the database under DOCENT_VAR_DIR. Django's
modules are imported inside the functions, once `django.setup()` has run.
"""

import os
import sys
import time
from pathlib import Path

import django

from bench.runstats import ChildPeakMemory, RunStats

PIPELINE_STAGES = ("extract", "chunk", "embed", "index")


def main(docs_dir: Path, out_dir: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command

    from accounts.models import Company

    call_command("migrate", verbosity=0)
    company = Company.objects.create(name="Benchmark")
    stats = RunStats()
    started = time.monotonic()
    ids = upload(company, sorted(docs_dir.glob("*.pdf")), stats)
    with ChildPeakMemory("datasources.sandbox") as extraction_children:
        process(ids)
    stats.total_seconds = time.monotonic() - started
    add_pipeline_figures(stats, ids)
    stats.record_usage()
    stats.peak_child_rss_mb = extraction_children.peak_mb
    stats.save(out_dir / "stats.json")


def upload(company, paths: list[Path], stats: RunStats) -> list[str]:
    from datasources.services import datasource_upload

    with stats.timed("validate"):
        return [str(datasource_upload(company=company, user=None, path=path, name=path.name).data_source.id)
                for path in paths]


def process(ids: list[str]) -> None:
    from datasources.pipeline import process as process_data_source

    for data_source_id in ids:
        process_data_source(data_source_id)


def add_pipeline_figures(stats: RunStats, ids: list[str]) -> None:
    """Pages, chunks and time per stage of the files Docent took, as each run recorded them on its data source."""
    from datasources.models import DataSource

    sources = list(DataSource.objects.filter(pk__in=ids))
    stats.failed = [f"{source.name}: {source.error_message}" for source in sources if source.status != "ready"]
    ready = [source for source in sources if source.status == "ready"]
    stats.pages = sum(source.page_count for source in ready)
    stats.chunks = sum(source.chunk_count for source in ready)
    for stage in PIPELINE_STAGES:
        stats.stage_seconds[stage] = sum(source.timings.get(stage, 0.0) for source in ready)

if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

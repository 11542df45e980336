import sys
import uuid
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from accounts.models import Company
from config import rls
from config.errors import ApiError
from datasources.pipeline import process
from datasources.services import datasource_upload


def _files(paths: list[str]) -> list[Path]:
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")))
        elif path.is_file():
            found.append(path)
        else:
            raise CommandError(f"{raw}: no such file or folder")
    return found


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = width * done // max(total, 1)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


class Command(BaseCommand):
    help = "Upload files or folders into a company, validated and processed as the dashboard's uploads are."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="Files or folders (folders are read recursively).")
        parser.add_argument("--company", required=True, help="The company's id or exact name.")
        parser.add_argument("--queue", action="store_true",
                            help="Leave processing to the workers instead of processing here, one by one.")
        parser.add_argument("--new-version", action="store_true",
                            help="Store files whose content is already there as new versions.")

    @rls.dangerously_all_companies(rls.WayAround.COMMANDS)
    def handle(self, *args, **options):
        company = self._company(options["company"])
        files = _files(options["paths"])
        outcomes = {"ready": 0, "error": 0, "queued": 0, "duplicate": 0, "rejected": 0}
        for done, path in enumerate(files, start=1):
            outcome = self._ingest(company, path, queue=options["queue"], new_version=options["new_version"])
            outcomes[outcome] += 1
            if sys.stdout.isatty():
                self.stdout.write(f"\r{_bar(done, len(files))} {path.name[:40]:40}", ending="")
        if sys.stdout.isatty():
            self.stdout.write("")
        self.stdout.write(", ".join(f"{count} {name}" for name, count in outcomes.items()))

    def _company(self, reference: str) -> Company:
        try:
            by_id = Q(pk=uuid.UUID(reference))
        except ValueError:
            by_id = Q(pk__in=[])
        company = Company.objects.filter(by_id | Q(name=reference)).first()
        if company is None:
            raise CommandError(f"No company with id or name {reference!r}.")
        return company

    def _ingest(self, company: Company, path: Path, *, queue: bool, new_version: bool) -> str:
        try:
            outcome = datasource_upload(company=company, user=None, path=path, name=path.name,
                                        new_version=new_version, enqueue=queue)
        except ApiError as exc:
            self.stderr.write(f"{path}: refused: {exc.message}")
            return "rejected"
        if not outcome.created:
            return "duplicate"
        if queue:
            return "queued"
        process(str(outcome.data_source.id))
        outcome.data_source.refresh_from_db()
        if outcome.data_source.status == "error":
            self.stderr.write(f"{path}: {outcome.data_source.error_message}")
        return outcome.data_source.status

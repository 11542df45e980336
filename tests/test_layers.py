"""The layers of ARCHITECTURE.md, checked on every module's imports as written (read with ast, not imported).

config's floor imports no app and no wiring module; no app imports a wiring module (config.WIRING);
each app imports only the apps below it:

    analytics ─▶ chat ─▶ integrations ─▶ chatbots ─▶ datasources ─▶ webhooks ─▶ accounts

And no app's code names another app's URLs; nor do the pages of accounts, which every other app
builds on: they go to LOGIN_REDIRECT_URL, the wiring's choice of a home page.
"""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from config import WIRING

ROOT = Path(__file__).resolve().parent.parent
APPS_FROM_THE_BOTTOM = ["accounts", "webhooks", "datasources", "chatbots", "integrations", "chat", "analytics"]
PACKAGES = ["config", *APPS_FROM_THE_BOTTOM]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def exists(module: str) -> bool:
    path = ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_modules(path: Path) -> Iterator[str]:
    """The project modules the file imports: `from config import errors` is config.errors."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = f"{package.rsplit('.', node.level - 1)[0]}.{base}".rstrip(".")
            submodules = [f"{base}.{alias.name}" for alias in node.names if exists(f"{base}.{alias.name}")]
            yield from submodules or [base]


def project_imports() -> Iterator[tuple[str, str]]:
    """(importer, imported) for every import of a project module by a module of config or an app."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for imported in imported_modules(path):
                if imported.split(".")[0] in PACKAGES:
                    yield module_name(path), imported


def layer(module: str) -> str:
    top = module.split(".")[0]
    if top != "config":
        return top
    return "wiring" if module in WIRING else "floor"


def rank(app: str) -> int:
    return APPS_FROM_THE_BOTTOM.index(app)


def violations(imports) -> list[str]:
    found = []
    for importer, imported in imports:
        mine, theirs = layer(importer), layer(imported)
        if mine == "floor" and theirs != "floor":
            found.append(f"{importer} (the floor) imports {imported}")
        elif mine in APPS_FROM_THE_BOTTOM and theirs == "wiring":
            found.append(f"{importer} imports {imported}, a wiring module")
        elif mine in APPS_FROM_THE_BOTTOM and theirs in APPS_FROM_THE_BOTTOM and rank(theirs) > rank(mine):
            found.append(f"{importer} imports {imported}, of an app above it")
    return sorted(set(found))


def test_every_import_goes_down_the_layers():
    assert violations(project_imports()) == []


def test_the_check_names_an_import_up_the_layers():
    assert violations([
        ("config.errors", "accounts.models"),
        ("analytics.views", "config.health"),
        ("accounts.views", "analytics.urls"),
        ("chat.api", "integrations.access"),
        ("config.urls", "chat.urls"),
    ]) == [
        "accounts.views imports analytics.urls, of an app above it",
        "analytics.views imports config.health, a wiring module",
        "config.errors (the floor) imports accounts.models",
    ]


def test_the_check_reads_every_kind_of_import():
    assert {"config.errors", "config.jsonbody"} <= set(imported_modules(ROOT / "config" / "middleware.py"))
    assert ("config.asgi", "config.routing") in set(project_imports())


URL_FUNCTIONS = {"reverse", "reverse_lazy", "redirect", "resolve_url"}
TEMPLATE_URL = re.compile(r"""{%\s*url\s+['"]([^'"]+)['"]""")


def url_names_declared(urls: Path) -> set[str]:
    return {keyword.value.value for node in ast.walk(ast.parse(urls.read_text())) if isinstance(node, ast.Call)
            for keyword in node.keywords if keyword.arg == "name" and isinstance(keyword.value, ast.Constant)}


def url_names_in_code(path: Path) -> set[str]:
    return {node.args[0].value for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) in URL_FUNCTIONS
            and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)}


def foreign_url_names(app: str) -> list[str]:
    """The URL names an app's code (and, for accounts, its pages) uses that are neither its own nor the
    wiring's (its own and Django admin's, which it mounts)."""
    allowed = url_names_declared(ROOT / app / "urls.py") | url_names_declared(ROOT / "config" / "urls.py")
    used = {(name, path) for path in (ROOT / app).rglob("*.py") for name in url_names_in_code(path)}
    if app == "accounts":
        used |= {(name, path) for path in (ROOT / "templates" / app).rglob("*.*")
                 for name in TEMPLATE_URL.findall(path.read_text())}
    return sorted(f"{path.relative_to(ROOT)} names {name!r}" for name, path in used
                  if name not in allowed and not name.startswith("admin:"))


def test_no_app_names_another_apps_urls():
    assert [found for app in APPS_FROM_THE_BOTTOM for found in foreign_url_names(app)] == []


def test_the_url_check_reads_code_and_pages():
    assert url_names_in_code(ROOT / "accounts" / "services.py") == {"invitation_accept"}
    assert "login" in TEMPLATE_URL.findall((ROOT / "templates" / "accounts" / "signup.html").read_text())

"""Data flows one way: no import cycle among the project's own modules, counting the imports inside functions too
(a lazy import hides an edge, it does not remove it); and the graph is in plain sight: a module imports the project's
modules at its top, lazily only where a listed load-time cost says why."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

ROOTS = {REPO / "include": ("paperlake", "paperlake_airflow"), REPO: ("deploy", "bench")}
# Files outside the packages that import them: Airflow loads these by path.
LOOSE_FILES = ("dags", "plugins")

SPACY_PLUGIN = "importing it registers spaCy pipeline components, loading spaCy (~1 s): only building the tagger pays"
CLI_COMMAND = (
    "`paperlake --help`, `sql` and `shell` must not load the whole pipeline (210 modules instead of 122): "
    "bench/sql_point_query holds a `paperlake sql` point query to 1.2x a bare DuckDB one; the command that needs it "
    "imports it"
)
CLI_FAILURE = "only a failing command needs these exception classes: the HTTP client and validation are 55 modules more"
CLI_HELP = "`paperlake --help` and a mistyped command open no store: its tempfile and shutil add 5 ms to a 22-ms import"
# Function-level imports of project modules that stay, each for a load-time cost: importing module -> {imported
# module: why}. A new one needs a reason here; one that no longer occurs must leave the list.
LAZY_BY_MODULE = {
    "paperlake.tagging.tagger": dict.fromkeys(
        ["paperlake.tagging.acronyms", "paperlake.tagging.components", "paperlake.tagging.entity_rules"], SPACY_PLUGIN
    ),
    "paperlake.cli.commands": dict.fromkeys(
        ["paperlake.pipeline", "paperlake.search", "paperlake.commit", "paperlake.delta", "paperlake.lake"], CLI_COMMAND
    ) | {"paperlake.storage": CLI_HELP},
    "paperlake.cli": dict.fromkeys(["paperlake.sources.http", "paperlake.validate"], CLI_FAILURE),
    "paperlake.readonly": {
        "paperlake.storage": CLI_HELP,
        "paperlake.lake": "a point query on the marts reads no lake: `paperlake sql` stays as lean",
        "paperlake.lake_views": "only `--as-of` and the shell's first lake_* query read the lake views (Delta logs, "
        "commits: 27 modules); `paperlake sql` on the marts does not load them",
    },
}
LAZY_PROJECT_IMPORTS = {
    (module, imported): why for module, lazy in LAZY_BY_MODULE.items() for imported, why in lazy.items()
}


def project_modules() -> dict[str, Path]:
    """module name -> file, for the paperlake package and the deploy package."""
    modules = {}
    for root, packages in ROOTS.items():
        for package in packages:
            for path in (root / package).rglob("*.py"):
                parts = path.relative_to(root).with_suffix("").parts
                modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imported(module: str, path: Path, modules: dict[str, Path], nodes=None) -> set[str]:
    """The project modules `module` imports anywhere in its file (`from a import b` counts a.b when b is a module), or
    in the import statements `nodes` of it."""
    found = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if nodes is None else nodes:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in modules and name != module}
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_of_the_project_imports_itself_back():
    modules = project_modules()
    assert {"paperlake.commit", "paperlake.lake", "paperlake.cli.commands", "deploy.stack.plans"} <= set(modules)
    graph = {module: imported(module, path, modules) for module, path in modules.items()}
    assert graph["paperlake.commit"] >= {"paperlake.lake"}, "the walk must see the project's imports"
    assert cycles(graph) == []


def function_level_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """The import statements inside a function (or a function inside one) of `tree`, each once."""
    found = {
        id(node): node
        for function in ast.walk(tree)
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        for statement in function.body
        for node in ast.walk(statement)
        if isinstance(node, (ast.Import, ast.ImportFrom))
    }
    return sorted(found.values(), key=lambda node: node.lineno)


def lazy_project_imports() -> set[tuple[str, str]]:
    """(importing module, project module) for every import of a project module inside a function; the DAG files and
    plugins are named by their path."""
    modules = project_modules()
    files = modules | {f"{folder}/{path.name}": path for folder in LOOSE_FILES for path in (REPO / folder).glob("*.py")}
    found = set()
    for module, path in files.items():
        for node in function_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            names = imported(module, path, modules, [node])
            # `from paperlake.tagging import components` names the package and its module: the module is imported
            found |= {(module, name) for name in names if not any(other.startswith(name + ".") for other in names)}
    return found


def test_the_walk_finds_an_import_inside_a_function_and_not_one_at_the_top():
    tree = ast.parse("import os\ndef f():\n    import json\n    def g():\n        from a import b\n")
    assert [ast.unparse(node) for node in function_level_imports(tree)] == ["import json", "from a import b"]


def test_project_modules_are_imported_at_the_top_except_for_a_listed_load_time_cost():
    found = lazy_project_imports()
    assert ("paperlake.tagging.tagger", "paperlake.tagging.components") in found, "the walk must see lazy imports"
    assert sorted(found - set(LAZY_PROJECT_IMPORTS)) == [], "import these at the module's top, or list the reason"
    assert sorted(set(LAZY_PROJECT_IMPORTS) - found) == [], "these are imported at the top now: drop them from the list"

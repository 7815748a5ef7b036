"""Dependency rules: models/ never imports qgis; the plugin imports itself relatively."""

import ast
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OWN_PACKAGES = {"models", "algorithms", "lrm_plugin"}


def _python_files(folder):
    for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(dirpath, name)


def _imports(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, 0, node.lineno
        elif isinstance(node, ast.ImportFrom):
            yield node.module or "", node.level, node.lineno


@pytest.mark.parametrize("path", list(_python_files("models")), ids=lambda p: os.path.relpath(p, ROOT))
def test_models_never_import_qgis(path):
    for module, level, line in _imports(path):
        top = module.split(".")[0]
        assert level > 0 or top not in {"qgis", "PyQt5", "processing", "algorithms", "lrm_plugin"}, \
            f"{os.path.relpath(path, ROOT)}:{line} imports {module}"


def test_the_processing_side_takes_only_the_shared_contract_from_the_backend():
    # algorithms/ and lrm_plugin/ run the backend in a child process; the one module of
    # models/ they import is the plain-data contract (enum orders, defaults, partial names)
    offenders = []
    for folder in ("algorithms", "lrm_plugin"):
        for path in _python_files(folder):
            for module, level, line in _imports(path):
                if level >= 2 and module.split(".")[0] == "models" and module != "models":
                    offenders.append(f"{os.path.relpath(path, ROOT)}:{line} ({module})")
                if level >= 2 and module == "models":
                    names = [a.name for n in ast.walk(ast.parse(open(path, encoding="utf-8").read()))
                             if isinstance(n, ast.ImportFrom) and n.lineno == line for a in n.names]
                    offenders += [f"{os.path.relpath(path, ROOT)}:{line} (models.{n})"
                                  for n in names if n != "contract"]
    assert not offenders, "the Processing side imports backend modules: " + ", ".join(offenders)


@pytest.mark.parametrize("folder", ["models", "algorithms", "lrm_plugin"])
def test_own_modules_are_imported_relatively(folder):
    offenders = []
    for path in _python_files(folder):
        for module, level, line in _imports(path):
            if level == 0 and module.split(".")[0] in OWN_PACKAGES:
                offenders.append(f"{os.path.relpath(path, ROOT)}:{line} ({module})")
    assert not offenders, "absolute imports of the plugin's own modules: " + ", ".join(offenders)


def test_backend_runs_with_qgis_unimportable(tmp_path):
    """Importing every backend module must work where qgis cannot be imported at all."""
    blocker = tmp_path / "qgis"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('qgis is blocked in this test')\n")
    code = ("import importlib, pkgutil, models, models.cli.commands\n"
            "for m in pkgutil.walk_packages(models.__path__, 'models.'):\n"
            "    importlib.import_module(m.name)\n"
            "print('ok')\n")
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "ok"


def _backend_modules():
    """Dotted module name -> path, for every module of models/ (packages by their name)."""
    modules = {}
    for path in _python_files("models"):
        name = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
        modules[name[:-len(".__init__")] if name.endswith(".__init__") else name] = path
    return modules


def _imported_backend_modules(name, path, modules):
    """Backend modules that module ``name`` imports: relative imports anywhere in the file
    (function-level ones too) and module names in string constants (lazy imports)."""
    package = name if path.endswith("__init__.py") else name.rsplit(".", 1)[0]
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                yield f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in modules:
            yield node.value


def _import_cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while not component or component[-1] != module:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    return cycles


def test_backend_has_no_import_cycles():
    """No cycle among models/ modules, counting function-level and string-named (lazy)
    imports, which hide cycles from a plain import at start-up."""
    modules = _backend_modules()
    graph = {name: {m for m in _imported_backend_modules(name, path, modules)
                    if m in modules and m != name}
             for name, path in modules.items()}
    assert graph["models.translation.registry"], "the lazy method registry must be seen"
    assert _import_cycles(graph) == []


def test_cycle_finder_finds_a_cycle():
    assert _import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]

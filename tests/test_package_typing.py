"""Type checkers see emovc as typed, and see the lazily loaded pipeline classes."""

import ast
import re
from pathlib import Path

import emovc

PACKAGE = Path(emovc.__file__).parent


def test_the_package_is_marked_typed_and_ships_the_marker():
    assert (PACKAGE / "py.typed").is_file()
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    data = re.search(r"\[tool\.setuptools\.package-data\]\s*emovc = \[([^]]*)\]", pyproject)
    assert '"py.typed"' in data.group(1)


def test_the_lazy_classes_are_imported_for_type_checkers():
    """They resolve through module __getattr__, which a type checker reads as Any."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    guarded = [node for node in tree.body if isinstance(node, ast.If)
               and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"]
    seen = {(imp.module, alias.name) for node in guarded for imp in node.body
            if isinstance(imp, ast.ImportFrom) for alias in imp.names}
    assert seen == set((module, name) for name, module in emovc._LAZY.items())
    literal = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                   and node.targets[0].id == "__all__")
    assert set(emovc._LAZY) <= set(ast.literal_eval(literal))  # static, not *_LAZY

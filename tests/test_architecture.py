"""Architecture rules that must not erode: the library stays Streamlit-free, pages stay thin."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_funnel_package_never_imports_streamlit():
    code = ("import sys, pkgutil, importlib, funnel\n"
            "for m in pkgutil.walk_packages(funnel.__path__, 'funnel.'):\n"
            "    if m.name != 'funnel.__main__': importlib.import_module(m.name)\n"
            "print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


def test_no_line_in_funnel_imports_streamlit():
    """Also the imports a walk never executes (inside functions): the library stays Streamlit-free."""
    import re
    pattern = re.compile(r"^\s*(import|from) streamlit\b")
    hits = [f"{path.relative_to(ROOT)}:{n}" for path in sorted((ROOT / "funnel").rglob("*.py"))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.match(line)]
    assert not hits, f"funnel/ imports streamlit at {', '.join(hits)}: put Streamlit code beside app.py"


def test_pages_hold_no_sql():
    """Pages call funnel functions; SQL text in a page would bypass the parameterised library."""
    for page in (ROOT / "pages").glob("*.py"):
        tree = ast.parse(page.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "execute":
                raise AssertionError(f"{page.name} calls .execute(): move the query into funnel/")


def test_every_page_url_is_its_file_name():
    """A fresh server serves pages/ as a legacy multipage app (paths = file names) until
    st.navigation has run once; a link to any other path meets "Page not found" there. So each
    page's url_path is its file's name — except the default page (served at "/")."""
    import re
    text = (ROOT / "app.py").read_text(encoding="utf-8")
    for call in re.findall(r"st\.Page\((.*?)\)", text):
        file = re.search(r"""["'](pages/[^"']+)\.py["']""", call).group(1).split("/")[-1]
        path = re.search(r"""url_path=["']([^"']+)["']""", call)
        if "default=True" in call:
            continue
        assert path and path.group(1) == file, f"{file}.py is served at /{path.group(1) if path else '?'}"


def test_money_has_one_format():
    """Tiles, sentences and chart labels all read money the same way (funnel.labels.money)."""
    from funnel.labels import money
    assert [money(v) for v in (None, 999, 5000, 5400, 35_000, 1_250_000, -40_000, 2.5e9)] == \
        ["–", "$999", "$5k", "$5.4k", "$35k", "$1.25M", "−$40k", "$2.50B"]

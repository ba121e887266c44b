"""Pointers into README name sections that exist: `README "Section"` in code and docs, and
"(see Section)" inside README."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["evo", "brains", "encoders", "genome", "experiments", "docs"]


def headings() -> set[str]:
    return {m.group(1).strip() for m in re.finditer(r"^#+ (.+)$", (ROOT / "README.md").read_text(), re.M)}


def pointers() -> list[tuple[str, str]]:
    found = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".md") and path.is_file():
                for match in re.finditer(r'README,? "([^"]+)"', path.read_text()):
                    found.append((str(path.relative_to(ROOT)), match.group(1)))
    readme = (ROOT / "README.md").read_text()
    found += [("README.md", m.group(1)) for m in re.finditer(r"\(see ([A-Z][\w ,]*?)\)", readme)]
    return found


def test_readme_pointers_name_existing_sections():
    have = headings()
    missing = [(where, name) for where, name in pointers() if name not in have]
    assert not missing, f"pointers to README sections that do not exist: {missing}"


def test_there_are_pointers_to_check():
    assert pointers()  # the test above checks something


def test_files_named_in_readme_exist():
    """README names code by path (`evo/tasks/spec.py`); a move must take the README along."""
    named = set(re.findall(r"`((?:evo|brains|encoders|genome|experiments|tests|docs)/[\w/.-]+\.(?:py|md|json))`",
                           (ROOT / "README.md").read_text()))
    assert named and not sorted(p for p in named if not (ROOT / p).exists())

"""Write the README's per-source section from docs/sources/<source>.md (one block per SOURCE).

    python scripts/readme_sources.py          # rewrite README.md between the sources markers
    python scripts/readme_sources.py --check  # exit 1 if README.md is out of date

Each block: the doc's title, its first paragraph, its command line, the example file(s) of its
first "Example" section (else its last example block), and a link to the whole doc.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors.source import SOURCES  # noqa: E402

BEGIN, END = "<!-- sources:begin -->", "<!-- sources:end -->"
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)


def block(name: str) -> str:
    doc = ROOT / "docs" / "sources" / f"{name}.md"
    text = doc.read_text(encoding="utf-8")
    title, _, rest = text.partition("\n")
    intro = rest.strip().split("\n\n")[0].strip()
    blocks = [(m.start(), m.group(1), m.group(0)) for m in _BLOCK.finditer(text)]
    command = next((b for _, lang, b in blocks if lang == "sh"), "")
    examples_at = text.find("\n## Example")
    if examples_at >= 0:
        section_end = text.find("\n## ", examples_at + 1)
        section_end = len(text) if section_end < 0 else section_end
        examples = [b for at, lang, b in blocks if examples_at < at < section_end and lang != "sh"]
    else:
        examples = [b for _, lang, b in blocks if lang != "sh"][-1:]
    parts = [f"### {title.lstrip('# ').strip()}", intro, command.rstrip("\n"),
             *(e.rstrip("\n") for e in examples), f"Columns, rules and edge cases: "
             f"[docs/sources/{name}.md](docs/sources/{name}.md)."]
    return "\n\n".join(p for p in parts if p) + "\n"


def section() -> str:
    return "\n".join(block(name) for name in SOURCES if name != "graph")


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    fresh = f"{head}{BEGIN}\n{section()}{END}{tail}"
    if "--check" in sys.argv:
        if fresh != text:
            print("README.md is out of date: run python scripts/readme_sources.py")
            return 1
        return 0
    readme.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

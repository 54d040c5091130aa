"""A benchmark's figures in docs/benchmarks.md: between its two markers, replaced on each run;
the first time, its section (a template with {begin}, {figures} and {end}) is added — before
another section's heading when one is named and present, else at the end."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, *, begin: str, end: str, figures: str, section: str,
                  before: str | None = None) -> None:
    text = path.read_text(encoding="utf-8")
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{begin}\n{figures}\n{end}{tail}"
    else:
        block = section.format(begin=begin, figures=figures, end=end)
        at = text.find(before) if before else -1
        text = text[:at] + block + text[at:] if at >= 0 else \
            text.rstrip("\n") + "\n\n" + block.rstrip("\n") + "\n"
    path.write_text(text, encoding="utf-8")

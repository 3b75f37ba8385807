"""What the book's pages show, as one JSON file, to compare two versions of the code page by page.

    python scripts/page_snapshot.py capture OUT.json [--executed DIR] [--text]
    python scripts/page_snapshot.py compare OLD.json NEW.json

`capture` executes every page of the `paper` profile from the committed cache (a missing result stops the run
instead of computing it) into DIR (a temporary folder unless given) and records, per page: each glued output by
its glue name and every other displayed output in order (Markdown and HTML text exactly, figures by the SHA-256
of their PNG bytes), any error output, and the cache entries the page read. `compare` prints what differs and
exits 1 if anything does. With --text, figures are left out (tests/data/page_outputs.json, which the browser test
compares the book's pages with, is captured so: `python scripts/page_snapshot.py capture tests/data/page_outputs.json
--text` after a change meant to alter what a page shows).
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT = ("text/markdown", "text/html", "text/latex")


def _output_record(out: dict, figures: bool = True) -> dict | None:
    """The text of one notebook output (figures by hash); None for outputs that carry nothing shown."""
    kind = out.get("output_type")
    if kind == "error":
        return {"error": f"{out.get('ename')}: {out.get('evalue')}"}
    if kind == "stream":
        return {"stream": out.get("text", "")}
    data = out.get("data", {})
    rec = {m: "".join(data[m]) if isinstance(data[m], list) else data[m] for m in TEXT if m in data}
    if "image/png" in data and figures:
        png = data["image/png"]
        rec["image/png"] = hashlib.sha256("".join(png).encode() if isinstance(png, list) else png.encode()).hexdigest()
    if not rec and "text/plain" in data:
        text = "".join(data["text/plain"])
        if not text.startswith("<"):           # reprs such as <IPython.core.display.Markdown object> carry nothing
            rec["text/plain"] = text
    return rec or None


def page_record(executed: Path, figures: bool = True) -> dict:
    """Glued and displayed outputs of one executed notebook, and the cache entries it read."""
    nb = json.loads(executed.read_text())
    glued, shown = {}, []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            rec = _output_record(out, figures)
            if rec is None:
                continue
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                glued[name] = rec
            else:
                shown.append(rec)
    reads_log = executed.with_name(f"{executed.stem}.reads.jsonl")
    reads = sorted({json.loads(line)["entry"] for line in reads_log.read_text().splitlines() if line.strip()}) \
        if reads_log.exists() else []
    return {"glued": glued, "shown": shown, "reads": reads}


def capture(out_json: Path, executed: Path | None = None, figures: bool = True) -> dict:
    """Execute every page from the committed cache and write what they show to `out_json`."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(executed) if executed else Path(tmp)
        env = {**os.environ, "COMPENDIUM_REQUIRE_CACHE": "1", "PYTHONPATH": str(ROOT / "src")}
        subprocess.run([sys.executable, "-m", "helpers", "execute", "--profile", "paper", "--force",
                        "--out", str(folder)], cwd=ROOT, env=env, check=True)
        pages = {p.stem: page_record(p, figures) for p in sorted(folder.glob("[0-9][0-9]_*.ipynb"))}
    out_json.write_text(json.dumps(pages, indent=1, sort_keys=True))
    return pages


def differences(old: dict, new: dict) -> list[str]:
    """Lines naming each page, glue name or displayed output that differs between two snapshots."""
    found = []
    for page in sorted(set(old) | set(new)):
        a, b = old.get(page), new.get(page)
        if a is None or b is None:
            found.append(f"{page}: only in the {'new' if a is None else 'old'} snapshot")
            continue
        for name in sorted(set(a["glued"]) | set(b["glued"])):
            if a["glued"].get(name) != b["glued"].get(name):
                found.append(f"{page}: glued output {name!r} differs")
        if len(a["shown"]) != len(b["shown"]):
            found.append(f"{page}: {len(a['shown'])} displayed outputs before, {len(b['shown'])} after")
        for i, (x, y) in enumerate(zip(a["shown"], b["shown"])):
            if x != y:
                found.append(f"{page}: displayed output {i} differs: {str(x)[:200]!r} -> {str(y)[:200]!r}")
        if a["reads"] != b["reads"]:
            found.append(f"{page}: cache entries read differ: -{sorted(set(a['reads']) - set(b['reads']))} "
                         f"+{sorted(set(b['reads']) - set(a['reads']))}")
    return found


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "capture":
        executed = Path(argv[argv.index("--executed") + 1]) if "--executed" in argv else None
        capture(Path(argv[1]), executed, figures="--text" not in argv)
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        found = differences(json.loads(Path(argv[1]).read_text()), json.loads(Path(argv[2]).read_text()))
        print("\n".join(found) or "identical")
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Write the current dev table into eval/RESULTS.md (between the CURRENT markers).

    python -m docqa.eval.results eval/out/report.json eval/RESULTS.md

The rest of RESULTS.md (the log of measured changes) is kept as it is.
"""
from __future__ import annotations

import sys
from pathlib import Path

from docqa.eval.evaluate import markdown_table, read_report

BEGIN, END = "<!-- BEGIN CURRENT (written by `make eval`) -->", "<!-- END CURRENT -->"


def render_current(report: dict) -> str:
    settings = report.get("settings", {})
    return (f"{BEGIN}\nGenerated {report.get('created', '')} on `{settings.get('questions_file', '')}` "
            f"(index `{report.get('index', {}).get('fingerprint', '')}`, k={settings.get('k', '')}).\n\n"
            f"{markdown_table(report)}\n{END}")


def update_results(report_path: Path, results_path: Path) -> None:
    block = render_current(read_report(report_path))
    text = results_path.read_text(encoding="utf-8") if results_path.exists() else "# Results\n\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n## Current dev table\n\n" + block + "\n"
    results_path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    update_results(Path(sys.argv[1]), Path(sys.argv[2]))

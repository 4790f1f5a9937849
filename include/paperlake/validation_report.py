"""A self-contained HTML page for one partition's validation (renders offline: no CDN, inline CSS)."""

from __future__ import annotations

from html import escape

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222}
table{border-collapse:collapse;margin:1em 0;width:100%}\
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.ok{color:#1a7f37;font-weight:600}.fail{color:#c62828;font-weight:600}\
code{background:#f6f6f6;padding:0 3px}
"""


def render_report(summary: dict, expectations: list[dict], quarantined: list[dict]) -> str:
    """The HTML page of one partition's validation.

    `summary`: counts and reasons; `expectations`: one dict per expectation; `quarantined`: the first rejected rows
    (of `summary["quarantined"]`)."""
    status = "ok" if not summary["quarantined"] else "fail"
    rows = "".join(
        f"<tr><td><code>{escape(e['type'])}</code></td><td>{escape(str(e.get('column') or ''))}</td>"
        f"<td>{escape(e.get('code') or '')}</td><td class=\"{'ok' if e['success'] else 'fail'}\">"
        f"{'passed' if e['success'] else 'failed'}</td><td>{e.get('unexpected_count') or 0}</td></tr>"
        for e in expectations
    )
    reasons = "".join(
        f"<tr><td><code>{escape(code)}</code></td><td>{n}</td></tr>"
        for code, n in sorted(summary["reasons"].items(), key=lambda kv: -kv[1])
    )
    rejected = "".join(
        f"<tr><td>{escape(str(q.get('paper_id')))}</td><td>{escape((q.get('title') or '')[:120])}</td>"
        f"<td>{escape('; '.join(q['reasons']))}</td></tr>"
        for q in quarantined
    )
    hidden = summary["quarantined"] - len(quarantined)
    more = (
        f"<p>The first {len(quarantined)} shown; {hidden} more are in the quarantine partition.</p>"
        if hidden > 0
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>paperlake validation: \
{escape(summary["source"])} {escape(summary["date"])}</title>
<style>{STYLE}</style></head><body>
<h1>Validation of <code>{escape(summary["source"])}</code> on {escape(summary["date"])}</h1>
<p class="{status}">{summary["parsed"]} parsed · {summary["clean"]} clean · {summary["quarantined"]} quarantined</p>
<p>Suite <code>{escape(summary["suite"])}</code> version {escape(str(summary["suite_version"]))}.</p>
<h2>Expectations</h2>
<table><tr><th>expectation</th><th>column</th><th>reason code</th><th>result</th><th>unexpected</th></tr>{rows}</table>
<h2>Quarantine reasons</h2>
<table><tr><th>reason</th><th>rows</th></tr>{reasons or '<tr><td colspan="2">none</td></tr>'}</table>
<h2>Quarantined rows</h2>
<table><tr><th>paper_id</th><th>title</th><th>reasons</th></tr>\
{rejected or '<tr><td colspan="3">none</td></tr>'}</table>{more}
</body></html>
"""

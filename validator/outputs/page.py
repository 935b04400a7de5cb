"""The head every self-contained HTML page of the tool shares: the report, the batch summary, the rule pages.

Nothing is fetched from anywhere: the style (and the report's script) are inline, and the Content-Security-Policy
allows exactly those, by their hash.
"""

from __future__ import annotations

import base64
import hashlib
import html


def escape(value: object) -> str:
    return html.escape(str(value), quote=True)


def sha256_source(text: str) -> str:
    """A CSP hash source for an inline style or script."""
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def page_head(title: str, css: str, script: str | None = None, images: bool = False) -> list[str]:
    """The lines from the doctype to </head>: inline ``css`` (and ``script``) allowed by hash, ``data:`` images
    only when asked, nothing else."""
    allowed = (f"script-src '{sha256_source(script)}'; " if script is not None else "") + (
        f"style-src '{sha256_source(css)}'; " + ("img-src data:; " if images else "")
    )
    csp = f"default-src 'none'; {allowed}base-uri 'none'; form-action 'none'"
    return [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{escape(csp)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{escape(title)}</title>",
        f"<style>{css}</style>",
        "</head>",
    ]

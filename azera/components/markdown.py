"""Markdown that stays text: user and model words never become markup that runs."""

from __future__ import annotations

import reflex as rx


def _link(text: rx.Var, **props) -> rx.Component:
    # Links open in a new tab without handing it this page (window.opener) or the URL (Referer).
    return rx.link(text, **props, is_external=True, rel="noopener noreferrer")


def safe_markdown(content: rx.Var[str] | str, **props) -> rx.Component:
    """Render markdown with raw HTML left as text (no rehype-raw).

    react-markdown's URL filter already drops ``javascript:``, ``vbscript:`` and ``data:`` links and images.
    """
    return rx.markdown(content, use_raw=False, component_map={"a": _link}, **props)

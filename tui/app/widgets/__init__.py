"""Widgets of the circle view: each renders a ``tui.view.View`` and posts messages up."""

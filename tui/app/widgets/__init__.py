"""Widgets of the circle view: each renders a ``tui.client.view.View`` and posts messages up."""

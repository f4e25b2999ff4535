"""Escape sequences the command line writes to the member's own terminal."""

from __future__ import annotations

CLEAR_SCREEN = "\x1b[H\x1b[2J\x1b[3J"
"""Home, clear the screen, clear the scrollback: what a quiet exit leaves behind."""

"""Screens: joining, the circle, the pause, dialogs, help and the end."""

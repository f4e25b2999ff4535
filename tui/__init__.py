"""Circle's clients: the headless connection, the Textual app, plain mode, the CLI.

``tui.client`` is importable without Textual so bots, benchmarks and tests
can use it alone.
"""

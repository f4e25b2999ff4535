"""A crash in the app must not print what was shared."""

from __future__ import annotations

from rich.segment import Segments

from circle_room.tui.app.app import CircleApp
from circle_room.tui.app.link import Details


async def test_a_crash_prints_no_local_variables() -> None:
    # Port 9 on loopback: nothing answers, so the app stays on its own screens.
    app = CircleApp(Details("ws://127.0.0.1:9/tuesday", "Ana"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # Built at run time: the traceback shows source lines, and a literal
        # would appear there whatever happens to the locals.
        shared_text = " ".join(["something", "only", "the", "circle", "heard"])
        try:
            raise RuntimeError("boom " + str(len(shared_text)))
        except RuntimeError:
            app._fatal_error()
        # Read what the app will print on exit before it prints (and clears) it.
        printed = "".join(
            segment.text
            for renderable in app._exit_renderables
            if isinstance(renderable, Segments)
            for segment in renderable.segments
        )
    assert "RuntimeError" in printed and "boom 31" in printed
    assert shared_text not in printed

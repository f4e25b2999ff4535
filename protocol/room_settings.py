"""What a facilitator may set: the limits on ``Settings`` and the check that keeps them.

Settings arrive from the wire, where anything decodes, so nothing takes them
into a room unchecked: ``checked_settings`` is the one check, asked by the
rule book before a change and used by ``server.decide`` to carry it out. Like
``protocol.text``'s ``checked_*``, it cleans first (agreements become single
safe lines, empty ones dropped) and then checks the limits, raising
``Refused`` rather than trimming anything silently.
"""

from __future__ import annotations

from dataclasses import replace

from circle_room.protocol.errors import Refused
from circle_room.protocol.model import Settings
from circle_room.protocol.refusals import RefusalCode
from circle_room.protocol.text import clean_line

MAX_SHARE_LIMIT = 3 * 60 * 60
"""Longest suggested time per share, in seconds."""
MAX_AGREEMENTS = 12
MAX_AGREEMENT_CHARS = 300


def checked_settings(settings: Settings) -> Settings:
    """``settings`` as a room may hold them, or ``Refused`` (``bad_setting``)."""
    if not 0 <= settings.share_limit <= MAX_SHARE_LIMIT:
        raise Refused(RefusalCode.BAD_SETTING, "The share limit must be between 0 and 3 hours.")
    agreements = tuple(a for a in (clean_line(a) for a in settings.agreements) if a)
    too_long = any(len(a) > MAX_AGREEMENT_CHARS for a in agreements)
    if len(agreements) > MAX_AGREEMENTS or too_long:
        raise Refused(
            RefusalCode.BAD_SETTING,
            f"Keep to {MAX_AGREEMENTS} agreements of at most {MAX_AGREEMENT_CHARS} characters.",
        )
    return replace(settings, agreements=agreements)

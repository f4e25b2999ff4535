"""Refusal codes: the stable ``code`` of every ``Error`` the relay sends.

Programs match on these, never on the English sentence beside them. The
values are the strings on the wire (docs/protocol.md, "Error codes"), so a
``RefusalCode`` compares equal to the plain string a peer sent.
"""

from __future__ import annotations

import enum


class RefusalCode(str, enum.Enum):
    # --- the handshake (followed by close 4000/4001/4003) ---
    BAD_HELLO = "bad_hello"
    VERSION = "version"
    WRONG_KEY = "wrong_key"
    WRONG_PASSCODE = "wrong_passcode"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    LOCKED = "locked"
    AGREEMENTS = "agreements"
    REMOVED = "removed"
    """This name was removed or denied earlier in this meeting."""
    ROOM_FULL = "room_full"
    BAD_NAME = "bad_name"
    NAME_TAKEN = "name_taken"
    # --- frames after the welcome ---
    BAD_FRAME = "bad_frame"
    RATE_LIMITED = "rate_limited"
    # --- commands after the welcome ---
    NOT_IN_ROOM = "not_in_room"
    WAITING = "waiting"
    NOT_FACILITATOR = "not_facilitator"
    PAUSED = "paused"
    NOT_PAUSED = "not_paused"
    NOT_HOLDER = "not_holder"
    ALREADY_HOLDER = "already_holder"
    ALREADY_SHARED = "already_shared"
    EMPTY_SHARE = "empty_share"
    SHARE_TOO_LONG = "share_too_long"
    SHARE_TOO_MANY_LINES = "share_too_many_lines"
    TOO_MANY_MARKS = "too_many_marks"
    """A share with more accents or joiners in a row on one character than allowed."""
    MESSAGE_TOO_LONG = "message_too_long"
    HAND_RAISED = "hand_raised"
    HAND_NOT_RAISED = "hand_not_raised"
    NO_CHANGE = "no_change"
    SHARE_OVER = "share_over"
    OWN_SHARE = "own_share"
    NO_SUCH_MEMBER = "no_such_member"
    NOT_PRESENT = "not_present"
    NOT_WAITING = "not_waiting"
    NOT_AWAY = "not_away"
    """Only an away seat can be released (inside the relay: that member is not away)."""
    NO_SIGNAL = "no_signal"
    NOT_YOURSELF = "not_yourself"
    NOT_ALLOWED = "not_allowed"
    ROUND_RUNNING = "round_running"
    NO_ROUND = "no_round"
    BAD_SETTING = "bad_setting"
    UNKNOWN_COMMAND = "unknown_command"
    NOT_SAVED = "not_saved"
    """The host could not save the change (a full or read-only disk); nothing changed.

    Also refuses a join (close 4003)."""
    # --- inside the relay only: never sent to a client ---
    ALREADY_AWAY = "already_away"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def of(cls, code: str) -> RefusalCode | None:
        """The code a peer sent, or ``None`` for one this version does not know."""
        try:
            return cls(code)
        except ValueError:
            return None

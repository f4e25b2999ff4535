"""The client's half of the handshake, without I/O: what to answer and what it means.

The relay greets, the client says hello, the relay welcomes or refuses
(docs/protocol.md, "Handshake"). These functions read each step and raise
what went wrong as a type: ``JoinRefused`` when the relay would not let us in
(with its ``RefusalCode``), ``RemoteProtocolError`` when the peer does not
speak Circle. ``connection`` does the sending and waiting around them.
"""

from __future__ import annotations

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.codec import decode
from circle_room.protocol.errors import DecodeError, JoinRefused, RemoteProtocolError
from circle_room.protocol.messages import Error, Greeting, Hello, Resume, Welcome
from circle_room.protocol.refusals import RefusalCode


def frame(data: bytes | str) -> object:
    """The message in one frame from the relay."""
    if isinstance(data, str):
        raise RemoteProtocolError("The relay sent text; is this a Circle relay?")
    try:
        return decode(data)
    except DecodeError as exc:
        raise RemoteProtocolError(f"Could not read the relay: {exc}") from None


def greeting(first: object) -> Greeting:
    """The relay's first message, which must be its greeting."""
    if not isinstance(first, Greeting):
        raise RemoteProtocolError("That address did not answer as a Circle relay.")
    return first


def hello(
    greeting: Greeting,
    name: str,
    passcode: str,
    key: str,
    agreed: bool,
    resume: Resume | None,
    ticket: str = "",
) -> Hello:
    """The answer to ``greeting``, in the newest protocol version both sides speak.

    It asks for every seq (``Hello.gapless``), so that a gap means a loss.
    """
    common = set(greeting.versions) & set(PROTOCOL_VERSIONS)
    if not common:
        message = "This client and the relay share no protocol version."
        raise JoinRefused(RefusalCode.VERSION, message, greeting)
    return Hello(max(common), name, passcode, key, agreed, resume, ticket, gapless=True)


def welcome(reply: object, greeting: Greeting) -> Welcome:
    """The relay's answer to our hello: a welcome, or the refusal raised."""
    if isinstance(reply, Error):
        raise JoinRefused(reply.code, reply.message, greeting, retry_after=reply.retry_after)
    if not isinstance(reply, Welcome):
        raise RemoteProtocolError("The relay answered our hello with something odd.")
    return reply

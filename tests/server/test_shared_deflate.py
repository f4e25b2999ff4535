"""``server.shared_deflate`` against websockets' own decoder, in memory.

Each connection is a pair negotiated as a real handshake would: our
``SharedDeflate`` encodes on the relay's side, websockets' ``PerMessageDeflate``
decodes on the client's, with the client's offer drawn from what clients
send (context takeover or not, smaller windows). Random runs of shared and
private messages, fragmented ones and mode switches must reach every client
byte for byte; payloads repeat words, so a compressor that refers to history
the client does not hold reads back the wrong bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    PerMessageDeflate,
)
from websockets.frames import BINARY, CONT, Frame

from circle_room.server.relay import _deflate
from circle_room.server.shared_deflate import (
    SharedDeflate,
    SharedDeflateFactory,
    Sharing,
    follow_sharing,
)

OFFERS = [
    ClientPerMessageDeflateFactory(),
    ClientPerMessageDeflateFactory(client_no_context_takeover=True),
    ClientPerMessageDeflateFactory(server_max_window_bits=10),
    ClientPerMessageDeflateFactory(server_max_window_bits=9, client_max_window_bits=9),
    ClientPerMessageDeflateFactory(server_no_context_takeover=True),
]
"""What clients offer: websockets' default, and the variations RFC 7692 allows."""

WORDS = [b"me too", b"the stick", b"I hear you", b"\x93\xa5hands", b"x" * 40, b"\x00\xff"]
payloads = st.one_of(
    st.lists(st.sampled_from(WORDS), max_size=30).map(b"".join),
    st.binary(max_size=300),
)


def relay_factory() -> SharedDeflateFactory:
    factory = _deflate()[0]
    assert isinstance(factory, SharedDeflateFactory)
    return factory


@dataclass
class Link:
    """One negotiated connection: the relay's encoder, the client's decoder."""

    relay: SharedDeflate
    client: PerMessageDeflate

    @classmethod
    def negotiate(
        cls, factory: SharedDeflateFactory, offer: ClientPerMessageDeflateFactory
    ) -> Link:
        response, relay = factory.process_request_params(offer.get_request_params(), [])
        return cls(relay, offer.process_response_params(response, []))

    @classmethod
    def in_room(cls, sharing: Sharing, factory: SharedDeflateFactory | None = None) -> Link:
        """A link over the first offer whose relay side follows the room's ``sharing``."""
        link = cls.negotiate(factory or relay_factory(), OFFERS[0])
        follow_sharing([link.relay], sharing)
        return link

    def carry(self, frame: Frame) -> bytes:
        """``frame`` encoded by the relay and decoded by the client."""
        return bytes(self.client.decode(self.relay.encode(frame), max_size=None).data)


Step = tuple[str, int, list[bytes]]
anyone = st.integers(0, 9)
one = st.lists(payloads, min_size=1, max_size=1)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("share"), st.just(0), one),
        st.tuples(st.just("private"), anyone, one),
        st.tuples(st.just("fragments"), anyone, st.lists(payloads, min_size=2, max_size=4)),
        st.tuples(st.sampled_from(["large", "small"]), st.just(0), st.just([])),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(offers=st.lists(st.sampled_from(OFFERS), min_size=1, max_size=4), steps=steps)
def test_every_client_reads_every_message(
    offers: list[ClientPerMessageDeflateFactory], steps: list[Step]
) -> None:
    factory = relay_factory()
    sharing = Sharing(above=0)
    links = [Link.negotiate(factory, offer) for offer in offers]
    for link in links:
        follow_sharing([link.relay], sharing)
    cached: tuple[bytes | None, set[int]] = (None, set())
    """What the cache holds: the payload deflated last, and for which window sizes."""

    def deflates_for(data: bytes, readers: list[Link]) -> int:
        """Deflates that sending ``data`` to ``readers`` should cost: once per window size."""
        nonlocal cached
        if not sharing.large:
            return 0
        if data is not cached[0]:  # b"" and one-byte payloads are one object each.
            cached = (data, set())
        windows = {each.relay.local_max_window_bits for each in readers}
        new = windows - cached[1]
        cached[1].update(windows)
        return len(new)

    for kind, index, data in steps:
        link = links[index % len(links)]
        if kind == "large":
            sharing.large = True
        elif kind == "small":
            sharing.large = False
        elif kind in ("share", "private"):
            # A share as ``broadcast`` sends it: the same bytes object to every connection.
            readers = links if kind == "share" else [link]
            expected = factory.cache.deflates + deflates_for(data[0], readers)
            for each in readers:
                assert each.carry(Frame(BINARY, data[0])) == data[0]
            assert factory.cache.deflates == expected
        else:
            # A message in several frames; the room may turn large in the middle.
            *first, last = data
            read = [link.carry(Frame(BINARY, first[0], fin=False))]
            sharing.large = not sharing.large
            read += [link.carry(Frame(CONT, part, fin=False)) for part in first[1:]]
            read.append(link.carry(Frame(CONT, last)))
            assert b"".join(read) == b"".join(data)


def test_a_shared_message_is_deflated_once_for_every_member() -> None:
    factory = relay_factory()
    sharing = Sharing(above=0)
    links = [Link.negotiate(factory, OFFERS[0]) for _ in range(5)]
    for link in links:
        follow_sharing([link.relay], sharing)
    sharing.large = True
    data = b"I hear you, and me too" * 3
    frames = [link.relay.encode(Frame(BINARY, data)) for link in links]
    assert factory.cache.deflates == 1
    assert all(frame.data is frames[0].data for frame in frames)
    assert all(frame.rsv1 for frame in frames)
    read = [link.client.decode(frame).data for link, frame in zip(links, frames, strict=True)]
    assert read == [data] * 5


def test_a_sharing_connection_holds_no_compressor() -> None:
    sharing = Sharing(above=0)
    link = Link.in_room(sharing)
    assert link.carry(Frame(BINARY, b"welcome")) == b"welcome"
    sharing.large = True
    assert link.carry(Frame(BINARY, b"shared")) == b"shared"
    assert not hasattr(link.relay, "encoder")
    sharing.large = False
    assert link.carry(Frame(BINARY, b"shared again")) == b"shared again"
    assert hasattr(link.relay, "encoder")


def test_a_small_room_keeps_context_takeover() -> None:
    """The bytes of a small meeting: a repeated message costs next to nothing."""
    factory = relay_factory()
    link = Link.in_room(Sharing(above=12), factory)
    data = b"I hear you, and me too, and thank you for sharing"
    first = link.relay.encode(Frame(BINARY, data))
    again = link.relay.encode(Frame(BINARY, data))
    assert len(again.data) < len(first.data) // 3
    assert factory.cache.deflates == 0


def test_a_room_turns_large_above_its_line_and_small_well_below() -> None:
    sharing = Sharing(above=100)
    seen = []
    for count in [*range(0, 102), *range(101, 70, -1)]:
        sharing.fit(count)
        seen.append((count, sharing.large))
    assert next(c for c, large in seen if large) == 101
    assert (100, True) in seen  # on the way down: not at the line
    assert (75, False) in seen and (76, True) in seen


@given(above=st.integers(0, 600), counts=st.lists(st.integers(0, 800), max_size=50))
def test_a_room_is_large_above_its_line_small_well_below_and_keeps_its_mode_between(
    above: int, counts: list[int]
) -> None:
    sharing = Sharing(above)
    for count in counts:
        was = sharing.large
        sharing.fit(count)
        if count > above:
            assert sharing.large
        elif count <= above * 3 // 4:
            assert not sharing.large
        else:
            assert sharing.large == was


def test_a_connection_without_our_deflate_follows_nothing() -> None:
    plain = PerMessageDeflate(False, False, 15, 15)
    follow_sharing([plain], Sharing(above=0))
    assert not hasattr(plain, "sharing")


def test_a_large_room_sends_plain_what_deflating_alone_would_grow() -> None:
    sharing = Sharing(above=0)
    link = Link.in_room(sharing)
    assert link.carry(Frame(BINARY, b"\x93\x0c\x01")) == b"\x93\x0c\x01"
    sharing.large = True
    tiny = b"\x93\x0c\x02"
    frame = link.relay.encode(Frame(BINARY, tiny))
    assert not frame.rsv1 and frame.data == tiny
    assert link.client.decode(frame).data == tiny
    sharing.large = False
    assert link.carry(Frame(BINARY, b"\x93\x0c\x01" * 4)) == b"\x93\x0c\x01" * 4

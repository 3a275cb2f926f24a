"""Trial designs as data: the randomised trials under way, read from a TOML file.

The bundled ``bundled/data/trials.toml`` holds only what the public record gives for each
trial (registry number, verbatim primary endpoint, total enrolment, allocation when stated,
status and source). A number the record does not give (NRG-BN012's size) is absent, and
:func:`arm_sizes` then requires the user's ``--n-per-arm``: it is never filled in with a
default. Every problem is an :class:`~srsbayes.errors.InputError` naming the file and key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..inputs.specs import _is_number, _no_unknown, read_toml
from ..resources import BUNDLED_DATA

if TYPE_CHECKING:
    from ..outputs import JSONObject

DEFAULT_TRIALS = BUNDLED_DATA / "trials.toml"
_KEYS = {"id", "aliases", "title", "phase", "endpoint", "outcomes", "endpoint_match",
         "enrollment", "enrollment_quote", "allocation", "status", "completion", "source"}
_REQUIRED_TEXT = ("id", "endpoint", "source")
EQUAL_ALLOCATION = ("1:1 allocation assumed: the public record gives the total enrolment "
                    "but not the allocation ratio (give --n-per-arm to change it)")


@dataclass(frozen=True)
class TrialDesign:
    """One trial: what its public record says, and where it says it.

    ``enrollment`` is None when the record gives no size; ``allocation`` is empty when it
    gives no allocation ratio.
    """

    id: str
    endpoint: str
    source: str
    outcomes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    title: str = ""
    phase: str = ""
    endpoint_match: str = ""
    enrollment: int | None = None
    enrollment_quote: str = ""
    allocation: str = ""
    status: str = ""
    completion: str = ""
    path: str = ""

    def names(self) -> tuple[str, ...]:
        """The id and its aliases (what ``--design`` accepts, case-insensitive)."""
        return (self.id, *self.aliases)

    def as_dict(self) -> JSONObject:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def _text(entry: dict, key: str, f: str, col: str) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        raise InputError("must be a string", file=f, column=f"{col}.{key}")
    return value


def _texts(entry: dict, key: str, f: str, col: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InputError("must be a list of non-empty strings", file=f, column=f"{col}.{key}")
    return tuple(value)


def _design(entry: Any, i: int, f: str) -> TrialDesign:
    col = f"trial[{i}]"
    if not isinstance(entry, dict):
        raise InputError("must be a table", file=f, column=col)
    _no_unknown(entry, _KEYS, f, col + ".")
    for key in _REQUIRED_TEXT:
        if not _text(entry, key, f, col):
            raise InputError(f"needs {key} = \"...\"", file=f, column=f"{col}.{key}")
    n = entry.get("enrollment")
    if n is not None and (not _is_number(n) or n != int(n) or n < 2):
        raise InputError("must be a whole number >= 2", file=f, column=f"{col}.enrollment")
    if n is not None and not _text(entry, "enrollment_quote", f, col):
        raise InputError("an enrollment needs its verbatim enrollment_quote", file=f,
                         column=f"{col}.enrollment_quote")
    allocation = _text(entry, "allocation", f, col)
    if allocation and _ratio(allocation) is None:
        raise InputError("must be a ratio such as \"1:1\" or \"2:1\" (preop:postop)", file=f,
                         column=f"{col}.allocation")
    return TrialDesign(
        id=entry["id"], endpoint=entry["endpoint"], source=entry["source"],
        outcomes=_texts(entry, "outcomes", f, col), aliases=_texts(entry, "aliases", f, col),
        title=_text(entry, "title", f, col), phase=_text(entry, "phase", f, col),
        endpoint_match=_text(entry, "endpoint_match", f, col),
        enrollment=None if n is None else int(n),
        enrollment_quote=_text(entry, "enrollment_quote", f, col), allocation=allocation,
        status=_text(entry, "status", f, col), completion=_text(entry, "completion", f, col),
        path=f)


def _ratio(text: str) -> tuple[int, int] | None:
    parts = text.split(":")
    if len(parts) != 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def load_designs(path: str | Path | None = None) -> dict[str, TrialDesign]:
    """Read and validate a trials file (default: the bundled ``trials.toml``), by id."""
    p = Path(path) if path else DEFAULT_TRIALS
    f = str(p)
    _, raw = read_toml(p, "trials file")
    _no_unknown(raw, {"trial"}, f)
    entries = raw.get("trial")
    if not isinstance(entries, list) or not entries:
        raise InputError("needs at least one [[trial]] table", file=f, column="trial")
    out: dict[str, TrialDesign] = {}
    for i, entry in enumerate(entries):
        d = _design(entry, i, f)
        if any(_find(out, name) is not None for name in d.names()):
            raise InputError(f"trial {d.id!r} is listed twice", file=f, column=f"trial[{i}].id")
        out[d.id] = d
    return out


def _find(designs: dict[str, TrialDesign], name: str) -> TrialDesign | None:
    key = name.casefold()
    return next((d for d in designs.values()
                 if key in (n.casefold() for n in d.names())), None)


def get_design(name: str, path: str | Path | None = None) -> TrialDesign:
    """The design called ``name`` (id or alias, case-insensitive)."""
    designs = load_designs(path)
    d = _find(designs, name)
    if d is None:
        raise InputError(f"no trial {name!r}; known: {', '.join(designs)}",
                         file=str(Path(path) if path else DEFAULT_TRIALS), column="--design")
    return d


def arm_sizes(design: TrialDesign | None, n_per_arm: tuple[int, int] | None
              ) -> tuple[int, int, str]:
    """Patients per arm ``(preop, postop)`` and how they were obtained.

    The user's ``n_per_arm`` wins. Otherwise the design's public enrolment, split by its
    public allocation ratio, or 1:1 (stated as an assumption) when the record gives none.

    Raises
    ------
    InputError
        No ``n_per_arm`` and no public enrolment (e.g. NRG-BN012): the size must come from
        the user; or a size below 1 per arm.
    """
    if n_per_arm is not None:
        a, b = n_per_arm
        if a < 1 or b < 1:
            raise InputError(f"needs two sizes >= 1, got {a} {b}", column="--n-per-arm")
        return int(a), int(b), "as given (--n-per-arm)"
    if design is None:
        raise InputError("give --n-per-arm N_PREOP N_POSTOP or --design ID",
                         column="--n-per-arm")
    if design.enrollment is None:
        raise InputError(f"the size of {design.id} is not public; give --n-per-arm N_PREOP "
                         "N_POSTOP (there is no default)", column="--n-per-arm")
    ratio = _ratio(design.allocation) if design.allocation else (1, 1)
    assert ratio is not None  # checked when the file was read
    pre = round(design.enrollment * ratio[0] / sum(ratio))
    how = (f"{design.enrollment_quote!r} ({design.source}), "
           + (f"{design.allocation} allocation as published" if design.allocation
              else EQUAL_ALLOCATION))
    return pre, design.enrollment - pre, how

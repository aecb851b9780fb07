"""Regimens: doses (per m² BSA) of one or more formulations at given times, IV or IM.

Build one from CLI-style options (:func:`regimen_from_options`) or read a YAML file::

    doses:
      - {day: 0, formulation: peg, dose: "2500 IU/m**2", route: iv}
      - {day: 14, formulation: peg, dose: "2500 IU/m**2", route: iv}
      - {day: 28, formulation: erwinia, dose: "25000 IU/m**2", route: im, every: 2d, count: 6}

A dose with ``if_allergy_to: ecoli`` (or ``erwinia``) is a replacement: given only to a
patient allergic to that antibody group before the dose (a switch after allergy; see
:func:`with_switch` for the Erwinia label's replacement schedule).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .._errors import DataError, UnitError
from ..models._formulations import formulation, formulation_name, group_of, pk_models
from ..units import as_quantity

__all__ = [
    "GRID_H",
    "MAX_DAY",
    "MAX_DOSES",
    "SWITCHES",
    "Dose",
    "Regimen",
    "read_regimen",
    "regimen_from_options",
    "with_pk_model",
    "with_switch",
]

#: Time resolution of a regimen (h): dose times fall on a 3-minute grid.
GRID_H = 0.05
#: Most doses in one regimen (a whole ALL protocol has a few dozen asparaginase doses).
MAX_DOSES = 1000
#: Largest dose per m² in any formulation's unit: 400 times the largest asparaginase dose in
#: use (25,000 IU/m²); anything above is a typing error, and would overflow the PK.
MAX_DOSE = 1e7
#: Latest dose day (ten years; treatment protocols last two to three).
MAX_DAY = 3650.0
#: Keys a YAML regimen may use, at the top and in each dose entry.
_TOP_KEYS = ("doses",)
_DOSE_KEYS = ("day", "formulation", "dose", "route", "every", "count", "if_allergy_to")
#: Antibody groups a replacement dose can be conditional on.
GROUPS = ("ecoli", "erwinia")


@dataclass(frozen=True)
class Dose:
    time_h: float
    formulation: str
    amount: float  # per m² in the formulation's dose unit
    route: str
    if_allergy: str | None = None  # given only after an allergy to this antibody group

    @property
    def group(self) -> str:
        """The dose's antibody cross-reactivity group."""
        return group_of(self.formulation)

    def per_m2_text(self) -> str:
        return f"{self.amount:g} {formulation(self.formulation).dose_unit}"


_REPR_DOSES = 4


@dataclass(frozen=True, repr=False)
class Regimen:
    doses: tuple[Dose, ...]

    def __post_init__(self) -> None:
        if not self.doses:
            raise DataError("a regimen needs at least one dose")
        if len(self.doses) > MAX_DOSES:
            raise DataError(f"a regimen has at most {MAX_DOSES} doses, got {len(self.doses)}")
        times = [d.time_h for d in self.doses]
        if not all(math.isfinite(t) for t in times):
            raise DataError("dose times must be finite numbers of days")
        if max(times) > MAX_DAY * 24:
            raise DataError(f"dose day {max(times) / 24:g} is after day {MAX_DAY:g} (ten years)")
        if any(t < 0 for t in times):
            raise DataError(f"dose times must be ≥ 0 h, got {min(times):g} h")
        if times != sorted(times):
            raise DataError("dose times must be in increasing order")
        # Two doses at one time are refused unless one replaces the other after an allergy.
        same = [
            b.time_h
            for a, b in itertools.pairwise(self.doses)
            if a.time_h == b.time_h and a.if_allergy is None and b.if_allergy is None
        ]
        if same:
            raise DataError(
                f"two doses at day {same[0] / 24:g}; give one dose (the sum) or separate times"
            )
        for i, d in enumerate(self.doses):
            if d.if_allergy is None:
                continue
            if d.if_allergy not in GROUPS:
                raise DataError(
                    f"dose at day {d.time_h / 24:g}: if_allergy_to {d.if_allergy!r}; expected "
                    f"{' or '.join(GROUPS)}"
                )
            if d.if_allergy == d.group:
                raise DataError(
                    f"dose at day {d.time_h / 24:g}: a replacement after an allergy to "
                    f"{d.if_allergy} cannot be of the same antibody group ({d.formulation})"
                )
            if not any(e.group == d.if_allergy and e.time_h < d.time_h for e in self.doses[:i]):
                raise DataError(
                    f"dose at day {d.time_h / 24:g}: no earlier {d.if_allergy} dose it could "
                    "replace after an allergy"
                )
        for d in self.doses:
            f = formulation(d.formulation)
            if d.route not in f.routes:
                models = {m: formulation(formulation_name(f.base, m)) for m in pk_models(f.base)}
                others = [m for m, g in models.items() if d.route in g.routes]
                hint = f" (--pk-model {' or '.join(others)} gives {d.route})" if others else ""
                raise DataError(
                    f"{d.formulation} is given {' or '.join(f.routes)}, not {d.route!r}{hint}"
                )
            if not (d.amount > 0 and math.isfinite(d.amount)):
                raise DataError(f"dose at {d.time_h / 24:g} d must be positive, got {d.amount!r}")
            if d.amount > MAX_DOSE:
                raise DataError(
                    f"dose at day {d.time_h / 24:g} is {d.amount:g} {f.dose_unit}; at most "
                    f"{MAX_DOSE:g} per m² (the largest doses in use are ~25,000 IU/m²)"
                )
            steps = d.time_h / GRID_H
            if abs(steps - round(steps)) > 1e-6:
                raise DataError(f"dose time {d.time_h:g} h is not on the regimen's 3-minute grid")

    def __repr__(self) -> str:
        """``Regimen(3 doses: day 0 peg 2500 IU/m**2 iv; day 14 …)``: short, like the CLI."""
        shown = "; ".join(
            f"day {d.time_h / 24:g} {d.formulation} {d.per_m2_text()} {d.route}"
            for d in self.doses[:_REPR_DOSES]
        )
        more = f"; … {len(self.doses) - _REPR_DOSES} more" if len(self.doses) > _REPR_DOSES else ""
        return f"Regimen({len(self.doses)} dose{'s' * (len(self.doses) != 1)}: {shown}{more})"

    def _repr_html_(self) -> str:
        return pd.DataFrame(self.to_dict()).to_html(index=False, max_rows=20)

    @property
    def formulations(self) -> list[str]:
        return list(dict.fromkeys(d.formulation for d in self.doses))

    @classmethod
    def from_dict(cls, entries: list[dict[str, Any]]) -> Regimen:
        """The regimen :meth:`to_dict` describes (or any list of YAML-style dose entries)."""
        if not isinstance(entries, list):
            raise DataError("a regimen is a list of dose entries")
        return _from_entries(entries, "")

    def to_dict(self) -> list[dict[str, Any]]:
        return [
            {
                "day": d.time_h / 24,
                "formulation": d.formulation,
                "dose": d.per_m2_text(),
                "route": d.route,
                **({"if_allergy_to": d.if_allergy} if d.if_allergy else {}),
            }
            for d in self.doses
        ]


def _dose_amount(text: Any, form: str, name: str = "dose") -> float:
    f = formulation(form)
    try:
        q = as_quantity(text, f.dose_unit, name=name)
    except UnitError as exc:
        raise UnitError(f"{exc} ({form} doses are in {f.dose_unit})") from None
    return float(q.to(f.dose_unit).magnitude)


_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(d|day|days|h|hour|hours)\s*$")


def _interval_h(text: str) -> float:
    m = _INTERVAL.match(str(text)) if len(str(text)) <= 40 else None
    if m is None:
        raise DataError(f"interval {str(text)[:40]!r}: expected e.g. 2d or 48h")
    value = float(m.group(1))
    hours = value * 24 if m.group(2).startswith("d") else value
    if hours <= 0:
        raise DataError(f"interval {text!r} must be positive")
    return hours


def regimen_from_options(
    formulation_name: str,
    dose: str,
    route: str | None = None,
    every: str | None = None,
    doses: int | None = None,
    at: str | None = None,
) -> Regimen:
    """``--every 2d --doses 6`` or ``--at 0,14,28`` (days); ``--dose`` one amount or a list."""
    f = formulation(formulation_name)
    route = route or f.routes[0]
    if at is not None and (every is not None or doses is not None):
        raise DataError("give either --at or --every/--doses, not both")
    if at is not None:
        items = [x.strip() for x in str(at).split(",")]
        if not any(items) or any(x == "" for x in items):
            raise DataError(
                f"--at {at!r}: an empty day; expected comma-separated days, e.g. 0,14,28"
            )
        if len(items) > MAX_DOSES:
            raise DataError(f"--at lists {len(items)} days; at most {MAX_DOSES} doses")
        try:
            days = [float(x) for x in items]
        except ValueError:
            raise DataError(f"--at {at!r}: expected comma-separated days, e.g. 0,14,28") from None
        bad = [x for x, d in zip(items, days, strict=True) if not (math.isfinite(d) and d >= 0)]
        if bad:
            raise DataError(f"--at {at!r}: {bad[0]} is not a day ≥ 0; expected e.g. 0,14,28")
    else:
        n = 1 if doses is None else int(doses)
        if not 1 <= n <= MAX_DOSES:
            raise DataError(f"--doses must be between 1 and {MAX_DOSES}, got {n}")
        if every is not None and doses is None:
            raise DataError("--every needs --doses (how many doses to give)")
        step = _interval_h(every) / 24 if every is not None else 0.0
        if n > 1 and every is None:
            raise DataError("--doses > 1 needs --every")
        days = [k * step for k in range(n)]
    amounts_text = [x.strip() for x in str(dose).split(",")]
    if any(x == "" for x in amounts_text):
        raise DataError(f"--dose {dose!r}: an empty amount; write e.g. '2500 IU/m**2'")
    if len(amounts_text) == 1:
        amounts_text *= len(days)
    if len(amounts_text) != len(days):
        raise DataError(f"--dose lists {len(amounts_text)} amounts for {len(days)} dose times")
    return Regimen(
        tuple(
            Dose(day * 24, formulation_name, _dose_amount(a, formulation_name, "--dose"), route)
            for day, a in zip(days, amounts_text, strict=True)
        )
    )


_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"


class _NoAliasLoader(yaml.SafeLoader):
    """yaml's safe loader without anchors and aliases: a regimen has no use for them, and
    nested aliases expand exponentially (a few lines can hang the reader)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                None, None, "aliases (*name) are not allowed in a regimen", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.MarkedYAMLError(
                    None, None, f"key {key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# YAML 1.1 reads 1:30 as 90 (base 60) and 1_0 as 10; a regimen means neither. Numbers are
# resolved as YAML 1.2's core schema does; anything else stays text (and is refused).
_NoAliasLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in rules if tag not in (_INT, _FLOAT)]
    for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_NoAliasLoader.add_implicit_resolver(_INT, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_NoAliasLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
        r"|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_PLAIN = re.compile(r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$")


def _yaml_number(value: Any, key: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | str)
        or (isinstance(value, str) and not _PLAIN.match(value))
    ):
        raise DataError(f"'{key}' must be a number, got {str(value)[:40]!r}")
    try:
        v = float(value)
    except (OverflowError, ValueError):
        raise DataError(f"'{key}' must be a finite number ≥ 0, got {str(value)[:40]!r}") from None
    if not (math.isfinite(v) and v >= 0):
        raise DataError(f"'{key}' must be a finite number ≥ 0, got {value!r}")
    return v


def _yaml_count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DOSES:
        raise DataError(f"'count' must be a whole number from 1 to {MAX_DOSES}, got {value!r}")
    return value


def with_pk_model(regimen: Regimen, pk_model: str) -> Regimen:
    """``regimen`` with the doses of the formulation that has ``pk_model`` simulated with
    it; an error if none has it."""
    bases = [formulation(d.formulation).base for d in regimen.doses]
    if not any(pk_model in pk_models(b) for b in bases):
        have = sorted({f"{b}: {', '.join(pk_models(b))}" for b in bases})
        raise DataError(f"--pk-model {pk_model!r} is not a model of the regimen's formulations "
                        f"({'; '.join(have)})")  # fmt: skip
    doses = tuple(
        replace(d, formulation=formulation_name(b, pk_model)) if pk_model in pk_models(b) else d
        for d, b in zip(regimen.doses, bases, strict=True)
    )
    return Regimen(doses)


def read_regimen(path: str | Path) -> Regimen:
    """Read a YAML regimen; errors name the file and the dose entry."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    try:
        if p.stat().st_size > 1_000_000:
            raise DataError(f"{p}: larger than 1 MB; a regimen file is a few lines")
        data = yaml.load(p.read_text(encoding="utf-8-sig"), Loader=_NoAliasLoader)
    except UnicodeDecodeError:
        raise DataError(f"{p}: not UTF-8 text") from None
    except RecursionError:
        raise DataError(f"{p}: nested too deeply for a regimen file") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise DataError(f"{p}: not valid YAML ({at}{exc.problem or exc.context})") from None
    except yaml.YAMLError as exc:
        raise DataError(f"{p}: not valid YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(data, dict) or not isinstance(data.get("doses"), list):
        raise DataError(f"{p}: expected a mapping with a 'doses' list")
    unknown = [str(k) for k in data if k not in _TOP_KEYS]
    if unknown:
        raise DataError(f"{p}: unknown key(s) {', '.join(unknown)}; expected: doses")
    return _from_entries(data["doses"], str(p))


def _from_entries(entries: list[Any], p: str) -> Regimen:
    """Dose entries (``day``, ``formulation``, ``dose``, optional ``route``, ``every``,
    ``count``) as a regimen; errors name ``p`` and the entry."""
    out: list[Dose] = []
    for i, entry in enumerate(entries, start=1):
        where = f"{p}: dose {i}" if p else f"dose {i}"
        if not isinstance(entry, dict):
            raise DataError(f"{where}: expected a mapping")
        unknown = [str(k) for k in entry if k not in _DOSE_KEYS]
        if unknown:
            raise DataError(
                f"{where}: unknown key(s) {', '.join(unknown)}; expected: {', '.join(_DOSE_KEYS)}"
            )
        missing = [k for k in ("day", "formulation", "dose") if k not in entry]
        if missing:
            raise DataError(f"{where}: missing {', '.join(missing)}")
        try:
            day = _yaml_number(entry["day"], "day")
            count = _yaml_count(entry.get("count", 1))
            if count > 1 and "every" not in entry:
                raise DataError("'count' > 1 needs 'every'")
            if "every" in entry and "count" not in entry:
                raise DataError("'every' needs 'count' (how many doses to give)")
            step = _interval_h(entry["every"]) if "every" in entry else 0.0
            name = str(entry["formulation"])
            amount = _dose_amount(entry["dose"], name)
            if "route" in entry:
                given = entry["route"]
                if not isinstance(given, str) or not given.strip():
                    raise DataError(f"'route' must be iv or im (or left out), got {given!r}")
                route = given.strip()
            else:
                route = formulation(name).routes[0]
            cond = entry.get("if_allergy_to")
            if cond is not None and cond not in GROUPS:
                raise DataError(f"'if_allergy_to' must be {' or '.join(GROUPS)}, got {cond!r}")
        except (DataError, UnitError, ValueError, TypeError) as exc:
            raise DataError(f"{where}: {exc}") from None
        out += [Dose(day * 24 + k * step, name, amount, route, cond) for k in range(count)]
        if len(out) > MAX_DOSES:
            raise DataError(f"{where}: the regimen exceeds {MAX_DOSES} doses")
    out.sort(key=lambda d: d.time_h)
    try:
        return Regimen(tuple(out))
    except DataError as exc:
        raise DataError(f"{p}: {exc}" if p else str(exc)) from None


#: Days after a replaced long-acting dose of the Erwinia label's six Mon/Wed/Fri doses
#: (KB ``dose.erwinia.label``: 25,000 IU/m² IM, Mon/Wed/Fri x 6 replacing one PEG dose).
_MWF_DAYS = (0, 2, 4, 7, 9, 11)
#: Rylaze's Monday/Wednesday/Friday regimen: the Friday-afternoon dose 53-58 h after
#: Wednesday morning's (label section 2.1), taken at the middle, 55.5 h (an assumption).
RYLAZE_FRIDAY_H = 55.5
#: The switch targets ``--on-allergy`` knows: each label's replacement schedule.
SWITCHES = ("erwinia", "erwinia-recombinant", "erwinia-recombinant-mwf")


def rylaze_mwf_days(count: int) -> tuple[float, ...]:
    """Days of ``count`` Rylaze doses on the label's Mon/Wed/Fri regimen from a Monday."""
    friday = 2 + RYLAZE_FRIDAY_H / 24
    return tuple(7 * (k // 3) + (0, 2, friday)[k % 3] for k in range(count))


def _replacement(to: str) -> dict[str, list[tuple[float, float]]]:
    """(day after the replaced dose, amount per m²) of the replacement doses, by the base
    formulation they replace: each label's schedule (KB ``dose.*.label``)."""
    from ..knowledge import load_knowledge_base

    kb = load_knowledge_base()
    if to == "erwinia":
        amount = kb.value("dose.erwinia.label", "IU/m**2")
        long = [(float(d), amount) for d in _MWF_DAYS]
        short = [(0.0, amount)]
        return {"peg": long, "calaspargase": long, "native-ecoli": short,
                "ecoli-recombinant": short}  # fmt: skip
    low = kb.value("dose.erwinia_recombinant.label", "mg/m**2")
    high = kb.value("dose.erwinia_recombinant.friday_mwf.label", "mg/m**2")
    plan = "q48h" if to == "erwinia-recombinant" else "mwf"
    out = {}
    for base in ("peg", "calaspargase"):
        n = int(
            kb.value(f"dose.erwinia_recombinant.replacement_{plan}_{base}.label", "dimensionless")
        )
        if plan == "q48h":
            out[base] = [(2.0 * k, low) for k in range(n)]
        else:
            out[base] = [(day, high if k % 3 == 2 else low)
                         for k, day in enumerate(rylaze_mwf_days(n))]  # fmt: skip
    return out


def with_switch(regimen: Regimen, to: str = "erwinia") -> Regimen:
    """``regimen`` with replacement doses after an E. coli-group allergy, given only to the
    patients who had it, as the replacing product's label schedules them:

    - ``erwinia`` (Erwinaze): 25,000 IU/m² IM, six doses Mon/Wed/Fri for each later PEG or
      calaspargase dose, one for each later native or recombinant E. coli dose;
    - ``erwinia-recombinant`` (Rylaze): 25 mg/m² IM every 48 h, 7 doses per PEG dose and 11
      per calaspargase dose;
    - ``erwinia-recombinant-mwf`` (Rylaze): 25/25/50 mg/m² Mon/Wed/Fri (Friday afternoon),
      6 doses per PEG dose and 9 per calaspargase dose.

    A block is cut short at the next E. coli dose. Rylaze's label replaces long-acting
    products only, so a regimen whose later E. coli doses are native or recombinant E. coli
    cannot switch to it."""
    if to not in SWITCHES:
        raise DataError(
            f"--on-allergy {to!r}: expected one of {', '.join(SWITCHES)} (the Erwinaze and "
            "Rylaze labels' replacement schedules); write other switches as if_allergy_to "
            "doses in a regimen file"
        )
    plan = _replacement(to)
    name = "erwinia" if to == "erwinia" else "erwinia-recombinant"
    ecoli = [d for d in regimen.doses if d.group == "ecoli" and d.if_allergy is None]
    extra: list[Dose] = []
    for k, d in enumerate(ecoli[1:], start=1):  # an allergy needs an earlier exposure
        base = d.formulation.split("/")[0]
        if base not in plan:
            raise DataError(
                f"--on-allergy {to}: the Rylaze label replaces long-acting products (peg, "
                f"calaspargase) only; the regimen has a {base} dose on day {d.time_h / 24:g} "
                "after the first (use --on-allergy erwinia, or if_allergy_to doses in a "
                "regimen file)"
            )
        nxt = ecoli[k + 1].time_h if k + 1 < len(ecoli) else math.inf
        for day, amount in plan[base]:
            t = d.time_h + day * 24.0
            if t < nxt and t <= MAX_DAY * 24:
                extra.append(Dose(t, name, amount, "im", "ecoli"))
    if not extra:
        raise DataError("--on-allergy: the regimen has no E. coli dose after the first to replace")
    doses = sorted((*regimen.doses, *extra), key=lambda x: (x.time_h, x.if_allergy is not None))
    return Regimen(tuple(doses))

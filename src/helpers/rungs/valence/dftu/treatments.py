"""The valence claims per spin treatment, the margin to the next state, occupations above one, and the k grid and smearing of part (b)."""
from __future__ import annotations

import numpy as np

from .. import verdicts as valence_verdicts
from .readings import _silent, judge_parts, numerics_reading, origin_readings, projector_reading
from .steps import _metals, _same_state, _step


def treatment_parts(page: dict) -> dict:
    """The valence parts judged in each spin treatment apart, where spin-polarized states exist and the page reads the
    spin-restricted ones: 'spin-polarized' (every state: the lowest states at each U_eff read, part (a) also in the
    annealing's own reading, part (b) also with the other projectors and numerics, as judge_parts reads (b)) and
    'spin-restricted' (every state spin 0, as the paper labels its configurations: parts (a) and (c) on the lowest
    spin-restricted states and (a) in the annealing's own reading among them; (b) None, imposed and not tested).
    {treatment: {part: True, False or None}}; {} without spin-polarized states."""
    _, read, read_r = judge_parts(page)
    if not any(r["spin"] == "polarized" for r in page.get("rows", [])):
        return {}
    # no spin-restricted state read (none converged): that treatment decides nothing
    read_r = read_r or [None] * len(page["read_at"])
    origins = origin_readings(page)
    b_ = valence_verdicts.VALENCE_PARTS[1]
    out = {}
    for tag, rows, o_tag in (("spin-polarized", read, ""), ("spin-restricted", read_r, " (restricted)")):
        parts_ = {}
        for p in valence_verdicts.VALENCE_PARTS:
            if tag == "spin-restricted" and p == b_:
                parts_[p] = None
                continue
            vals = {None if y is None else y[p] for y in rows if not _silent(y, p)}
            o = origins.get(o_tag, ({}, ""))[0]
            if p in o:
                vals.add(o[p])
            if p == b_ and page.get("projector read_at"):
                vals.add(projector_reading(page)[0])
            if p == b_ and page.get("numerics branches"):
                vals.add(numerics_reading(page)[0])
            parts_[p] = vals.pop() if len(vals) == 1 else None
        out[tag] = parts_
    return out


def treatment_overall(treatment: str, parts_: dict) -> bool | None:
    """The whole valence claim in one spin treatment (treatment_parts): False when a part it tests fails, True when
    every part it tests holds, else None; the spin-restricted treatment does not test (b)."""
    tested = [p for p in valence_verdicts.VALENCE_PARTS if not (treatment == "spin-restricted" and p == valence_verdicts.VALENCE_PARTS[1])]
    vals = [parts_[p] for p in tested]
    return False if False in vals else (True if all(v is True for v in vals) else None)


def treatment_said(page: dict) -> str:
    """treatment_parts in words: per treatment its verdict and its parts."""
    _, read, read_r = judge_parts(page)
    read_r = read_r or [None] * len(page["read_at"])
    out = []
    for tag, parts_ in treatment_parts(page).items():
        ok = treatment_overall(tag, parts_)
        words = {True: "reproduced", False: "not reproduced"}.get(ok, "undetermined")
        rows = read if tag == "spin-polarized" else read_r

        def one(p):
            if tag == "spin-restricted" and p == valence_verdicts.VALENCE_PARTS[1]:
                return "imposed"
            if all(y is None for y in rows):
                return "no converged state read"
            by = {}
            for U, y in zip(page["read_at"], rows):
                if y is not None and not _silent(y, p) and y[p] is not None:
                    by.setdefault(word(y[p]), []).append(f"{U:g}")
            if parts_[p] is None and len(by) > 1:       # the range over the U_eff read
                return "undetermined: " + ", ".join(f"{w} at {', '.join(u)} eV" for w, u in by.items())
            if parts_[p] is not None and not by:        # from the annealing's own reading alone
                return f"{word(parts_[p])} (in the annealing's own reading only: no lowest state has an integer t2g count)"
            return word(parts_[p])
        said = ", ".join(f"{p.split(')')[0]}) {one(p)}" for p in valence_verdicts.VALENCE_PARTS)
        label = ("spin-polarized DFT+U (PBE's spin exchange with Dudarev's U_eff)" if tag == "spin-polarized" else
                 "spin-restricted DFT+U (spin 0 imposed, as the paper labels its configurations)")
        out.append(f"{label}: {words} ({said})")
    return "; ".join(out)


def overfilled_eV(step: dict, metals: list) -> float:
    """The part of Dudarev's energy U_eff Tr[n - n n]/2 (eV, whole cell) from spin-orbitals holding more than one
    electron: U_eff/2 sum of lambda (1 - lambda) over the eigenvalues lambda > 1 of each metal's d occupation matrix
    per spin (GPAW's scaled projectors allow them); negative, a reward no occupation below one can earn."""
    out = 0.0
    for a in metals:
        for n in step["occupations"][str(a)]:
            lam = np.linalg.eigvalsh(np.asarray(n, float))
            out += 0.5 * step["U_eV"] * float(np.sum([x * (1 - x) for x in lam if x > 1]))
    return out


def overfill_line(page: dict) -> str:
    """One Markdown line: at each U_eff read, the lowest magnet's lead over the lowest spin-0 state (meV/f.u.) and the
    same with each state's overfilled_eV taken out (not re-minimized: an estimate of how much of the lead the
    occupations above one carry); '' where no U_eff read has both."""
    n_fu = len(_metals(page))
    by_start = {b["start"]: b for b in page["branches"]}
    said = []
    for U in page["read_at"]:
        conv = [r for r in page["rows"] if r["U (eV)"] == U and r["converged"]]
        mag = min((r for r in conv if r[valence_verdicts.VALENCE_PARTS[1]] is False), key=lambda r: r["E_eV"], default=None)
        nm = min((r for r in conv if r["spin"] == "restricted"), key=lambda r: r["E_eV"], default=None)
        if mag is None or nm is None:
            continue
        over = [overfilled_eV(_step(by_start[r["start"]], U), _metals(page)) for r in (mag, nm)]
        lead = 1000 * (mag["E_eV"] - nm["E_eV"]) / n_fu
        said.append(f"{lead:+.0f} → {lead - 1000 * (over[0] - over[1]) / n_fu:+.0f} at {U:g} eV")
    if not said:
        return ""
    return ("- **Occupations above one** (GPAW's scaled projectors; Dudarev's term rewards a spin-orbital holding more "
            "than one electron): the lowest magnet's lead over the lowest spin-0 state, and the same without that reward "
            "in either state (not re-minimized, an estimate), meV/f.u.: " + "; ".join(said) + ".")


def word(ok) -> str:
    """'holds', 'fails' or 'undetermined' for True, False, None."""
    return {True: "holds", False: "fails"}.get(ok, "undetermined")


def count(filled: list) -> str:
    """Filled t2g spin-orbitals per W (t2g_filled) in words: 'not integer' where None."""
    return ", ".join("not integer" if n is None else str(n) for n in filled)

#: Two rows of one U_eff that are the same state (_same_state) and this close in energy (meV/f.u.) are one state reached
#: from two starts.
SAME_STATE_MEV_PER_FU = 1.0


def margin_said(rows: list, low: dict) -> str:
    """The states within the margin of a lowest state (a record of lowest_states) in words: the starts that reach
    the lowest state itself (_same_state, within SAME_STATE_MEV_PER_FU) named as such, the other states by name; ''
    when none."""
    at = {r["start"]: r for r in rows if r["U (eV)"] == low["U (eV)"]}
    first = at[low["lowest"]]
    same = [s for s in low["within the margin"] if _same_state(at[s], first)
            and abs(at[s]["E_eV"] - first["E_eV"]) * 1000 / _n_fu_of(first) <= SAME_STATE_MEV_PER_FU]
    other = [s for s in low["within the margin"] if s not in same]
    return ((f"; the same state also from {', '.join(same)}" if same else "")
            + (f"; other states within the margin: {', '.join(other)}" if other else ""))


def next_other_state(rows: list, low: dict) -> float | None:
    """meV/f.u. from a lowest state (a record of lowest_states) to the lowest converged state at its U_eff that is not
    the same state (margin_said's rule); None without one."""
    at = [r for r in rows if r["U (eV)"] == low["U (eV)"] and r["converged"]]
    first = next(r for r in at if r["start"] == low["lowest"])
    n_fu = _n_fu_of(first)
    gaps = [1000 * (r["E_eV"] - first["E_eV"]) / n_fu for r in at if r is not first]
    return min((g for r, g in zip([r for r in at if r is not first], gaps)
                if not (_same_state(r, first) and g <= SAME_STATE_MEV_PER_FU)), default=None)


def _n_fu_of(row: dict) -> int:
    """Formula units of a row's cell: one per metal (one d count per W)."""
    return len(row["d counts"])

"""Readings of the valence DFT+U claims that vary a choice of ours: the state's origin, the projector, the orbital order of the 1T layer, tolerances."""
from __future__ import annotations

from helpers.dft.process import numerics_label
from .. import verdicts as valence_verdicts
from .steps import CONTINUITY_TOL_CHECKS, CONTINUITY_TOL_MEV_PER_FU, _metals, _step, continuity, continuous_origins, lowest_by_U, lowest_states, max_spin_orbital, step_rows


#: The parts the annealing's own reading (the configuration a state is reached from) speaks to: the valence, which
#: the annealing names by continuity. An orbital order is a broken symmetry that can melt continuously on a branch
#: (the eπ+² closed shell: n1 - n2 from 1.9 at 8 eV to 0.01 at 3 eV, no jump), so the doubly occupied orbital (c),
#: like spin 0 (b), is read on the state itself.
ORIGIN_PARTS = (0,)


def origin_reading(rows: list, U: float, tol_meV: float = CONTINUITY_TOL_MEV_PER_FU) -> tuple[dict, str]:
    """The annealing's own reading of the state at U_eff = `U` (the paper's: the valence of the large-U_eff
    configuration its branch is reached from without a jump, continuous_origins) for the ORIGIN_PARTS:
    ({part: True, False, or None}, why) — None where no branch from the top reaches the lowest state (or one
    within the margin) without a jump, because it is reached only by branches begun below the top or they
    jump on the way, or where the configurations it is reached from disagree."""
    parts_ = [valence_verdicts.VALENCE_PARTS[i] for i in ORIGIN_PARTS]
    origins = continuous_origins(rows, U, tol_meV)
    # the lowest state and those within the margin, split by whether their branch began at the top of the annealing
    # (SETTINGS 'below' runs begin lower: their configuration at large U_eff is not computed)
    low = next((x for x in lowest_states(rows) if x["U (eV)"] == U), None)
    top_U = max(r["U (eV)"] for r in rows)
    near = [low["lowest"], *low["within the margin"]] if low else []
    below = [s for s in near if max(r["U (eV)"] for r in rows if r["start"] == s) < top_U]
    reach = [s for s in near if s not in below]
    if not origins and not reach and below:
        return dict.fromkeys(parts_), (f"the lowest state is reached only by a branch begun at {U:g} eV or below "
                                       f"({', '.join(below)}): its origin is not computed")
    if not origins and reach:
        said = {}
        for s in reach:
            said.setdefault(continuity([r for r in rows if r["start"] == s and r["U (eV)"] >= U], tol_meV), []).append(s)
        why = "; ".join(f"{', '.join(v)}: " + ("jump on the way" if k == "jumps" else
                                                "a step on the way did not converge, so the check cannot be made")
                        for k, v in said.items())
        return dict.fromkeys(parts_), f"no state there is reached without a jump (the branches that join it to the top: {why})"
    if not origins:
        return dict.fromkeys(parts_), "no state there is reached without a jump"
    out = {}
    for p in parts_:
        vals = {o[p] for o in origins}
        out[p] = vals.pop() if len(vals) == 1 else None
    return out, "reached without a jump from " + ", ".join(o["start"] for o in origins)


def judge_parts(page: dict) -> tuple[dict, list, list]:
    """Each valence part judged on the lowest computed states at every U_eff of the page's 'read_at': over all
    states and, where spin-polarized states exist, over the spin-restricted ones alone (the spin treatment is
    a choice of ours; part (b), spin 0, is imposed by the restricted treatment and read among all states only);
    and, for the ORIGIN_PARTS, in the annealing's own reading at the last U_eff (origin_reading, over the same
    state sets): the paper's reading beside ours, each must agree. ({part: True, False, or None where the
    readings differ or one has no state}, lowest rows read, lowest restricted rows read)."""
    low = {x["U (eV)"]: x for x in page["lowest"]}
    read = [low.get(U) for U in page["read_at"]]
    polarized = any(r["spin"] == "polarized" for r in page.get("rows", []))
    low_r = {y["U (eV)"]: y for y in page.get("lowest restricted", [])}
    read_r = [low_r.get(U) for U in page["read_at"]] if polarized and low_r else []
    origins = origin_readings(page)
    judged = {}
    for p in valence_verdicts.VALENCE_PARTS:
        extra = [] if p == valence_verdicts.VALENCE_PARTS[1] else read_r
        # part (a) of a state without an integer t2g count and no disproportionation (a metal at the realistic U_eff)
        # is silent, not a disagreement: its valence is then the annealing's own reading's (or another U_eff's)
        vals = {None if y is None else y[p] for y in read + extra if not _silent(y, p)}
        vals |= {o[p] for o, _ in origins.values() if p in o}
        if p == valence_verdicts.VALENCE_PARTS[1] and page.get("projector read_at"):
            vals.add(projector_reading(page)[0])
        if p == valence_verdicts.VALENCE_PARTS[1] and page.get("numerics branches"):
            vals.add(numerics_reading(page)[0])
        judged[p] = vals.pop() if len(vals) == 1 else None
    return judged, read, read_r

#: The spin-restricted starts of the 1T layer that are the AFO page's configurations with b, c the degenerate e_pi
#: pair: a^2 (a1g on both W), the FO b^2 (e_pi+ on both W) and the AFO (e_pi+ / e_pi-); a check branch of a start
#: ('check_of') counts as that start.
ORDER_STARTS = {"a²": "d2 a1g² (spin 0)", "FO": "d2 eπ+² (spin 0)", "AFO": "d2 eπ+² / eπ−² (spin 0)"}


def orbital_order_1t(page: dict) -> list:
    """The AFO page's two energy claims on the fictitious 1T layer, where b and c are the degenerate e_pi pair: per
    U_eff, among converged spin-restricted released states that still hold their order (part (c): one t2g orbital
    doubly occupied on both W), the lowest of each of ORDER_STARTS (any of its check branches), and
    'FO − a²', 'AFO − FO' (meV/f.u.) where both are ordered, and the lowest of them (eV per cell).
    [{'U (eV)', 'FO − a²', 'AFO − FO', 'lowest E (eV)'}], U decreasing."""
    c_ = valence_verdicts.VALENCE_PARTS[2]
    of = {b["start"]: b.get("check_of", b["start"]) for b in page.get("branches", [])}
    n_fu = sum(s in ("W", "Mo") for s in page["one_t"].get_chemical_symbols()) if page.get("one_t") is not None else 2
    out = []
    for U in sorted({r["U (eV)"] for r in page.get("rows", [])}, reverse=True):
        E = {}
        for k, start in ORDER_STARTS.items():
            es = [r["E_eV"] for r in page["rows"] if r["U (eV)"] == U and r["spin"] == "restricted" and r["converged"]
                  and of.get(r["start"], r["start"]) == start and r[c_]]
            if es:
                E[k] = min(es)
        d = lambda x, y: 1000 * (E[x] - E[y]) / n_fu if x in E and y in E else None   # noqa: E731
        if len(E) >= 2:
            out.append({"U (eV)": U, "FO − a²": d("FO", "a²"), "AFO − FO": d("AFO", "FO"), "lowest E (eV)": min(E.values())})
    return out


def order_1t_line(page: dict, gain_meV: float) -> str:
    """One Markdown line: orbital_order_1t of the 1T layer against the paper's sub-eV gain
    `gain_meV` (meV/f.u.): where b and c are degenerate, whether b^2 lies below a^2 by the gain and the AFO below the
    FO, per U_eff; '' when the layer has no two ordered configurations at any U_eff."""
    xs = orbital_order_1t(page)
    if not xs:
        return ""
    at = lambda k, keep: ", ".join(f"{abs(x[k]):.0f} at {x['U (eV)']:g}" for x in xs  # noqa: E731
                                   if x[k] is not None and keep(x[k]))
    gain = at("FO − a²", lambda v: v <= -gain_meV)
    short = at("FO − a²", lambda v: -gain_meV < v < 0)
    afo, fo = at("AFO − FO", lambda v: v < 0), at("AFO − FO", lambda v: v >= 0)
    lowest_U = min(x["U (eV)"] for x in xs)
    said = ("- **Where b and c are degenerate** (this fictitious 1T layer, its $e_\\pi$ pair as the antiferro-orbital page's "
            "b and c, $a_{1g}$ as its a; "
            "spin-restricted DFT+U released at the top of the annealing): the FO $b^2$ lies below $a^2$ by "
            + (f"more than the paper's {gain_meV:g} meV/f.u. ({gain} eV)" if gain else f"less than the paper's {gain_meV:g} meV/f.u." + (f" ({short} eV)" if short else ""))
            + (f", by less ({short} eV)" if gain and short else "")
            + (f"; the AFO lies below the FO by {afo} eV" if afo else "; the AFO never lies below the FO")
            + (f" and above it by {fo} eV" if fo and afo else "")
            + f" (meV/f.u. at U_eff); below {lowest_U:g} eV fewer than two of them stay ordered.")
    read = page.get("read_at") or []
    both = [x["U (eV)"] for x in xs if x["U (eV)"] in read and x["FO − a²"] is not None and x["AFO − FO"] is not None
            and x["FO − a²"] <= -gain_meV and x["AFO − FO"] < 0]
    # by how much FO - a^2 beats the gain where both orderings hold: within k_BT of it is a marginal hold
    thin = [f"{-x['FO − a²'] - gain_meV:.0f} meV/f.u. at {x['U (eV)']:g} eV" for x in xs if x["U (eV)"] in both
            and -x["FO − a²"] - gain_meV < valence_verdicts.DEGENERATE_MEV_PER_FU]
    if read:
        said += (f" Both orderings the paper claims hold at the U_eff the valence verdict is read at "
                 f"({', '.join(f'{U:g}' for U in read)} eV) only at {', '.join(f'{U:g}' for U in both)} eV"
                 + (f", and only marginally: the FO beats the gain there by {', '.join(thin)}, within k_BT." if thin else ".")
                 if both else
                 f" At none of the U_eff the valence verdict is read at ({', '.join(f'{U:g}' for U in read)} eV) do both "
                 "orderings the paper claims hold.")
    lead = [(x["U (eV)"], x["AFO − FO"]) for x in xs if x["AFO − FO"] is not None]
    if len(lead) > 1 and lead[-1][1] > lead[0][1]:      # U decreasing: the AFO's lead falls as U_eff falls
        said += " The AFO's lead shrinks as U_eff falls, the opposite of a virtual-hopping gain ∝ t²/U."
    above = spin_gap_1t(page)
    if above:
        said += (f" These spin-0 states lie {min(above):.0f}–{max(above):.0f} meV/f.u. above the lowest spin-polarized "
                 "state at the same U_eff.")
    return said + " The antiferro-orbital page tests the claims in the distorted layer, where b and c are split."


def spin_gap_1t(page: dict) -> list:
    """Per U_eff of orbital_order_1t: the lowest ordered spin-restricted state of ORDER_STARTS above the lowest
    converged spin-polarized state (meV/f.u.), where both exist."""
    n_fu = sum(s in ("W", "Mo") for s in page["one_t"].get_chemical_symbols())
    out = []
    for x in orbital_order_1t(page):
        pol = [r["E_eV"] for r in page["rows"] if r["U (eV)"] == x["U (eV)"] and r["converged"] and r["spin"] == "polarized"]
        if pol:
            out.append(1000 * (x["lowest E (eV)"] - min(pol)) / n_fu)
    return out


def projector_findings(page: dict) -> list:
    """Markdown lines: each start computed with GPAW's other d projectors against the same start with the default
    ones at the same U_eff: the AFM-seeded state's energy from the spin-0 state (meV/f.u.), GPAW's local moment
    (muB), the largest spin-orbital occupation; and the default projectors' U_eff at which the AFM lies as close
    to spin 0 (its rows, from the AFM seed's runs). A sensitivity check: it does not enter the verdict."""
    rows = page.get("projector rows") or []
    if not page.get("projector branches"):
        return []
    if not rows:
        return [f"- Not computed yet: the spin-0 and AFM-seeded states with GPAW's unscaled d projectors "
                f"({', '.join(b['start'] for b in page['projector branches'])})."]
    metals = _metals(page)
    n_fu = len(metals)
    out = []
    for U in sorted({r["U (eV)"] for r in rows} - set(page.get("projector read_at", [])), reverse=True):
        def pick(rows_, branches, spin, base):
            r = min((r for r in rows_ if r["U (eV)"] == U and r["converged"] and r["spin"] == spin
                     and r["start"].startswith(base)), key=lambda r: r["E_eV"], default=None)
            b = next((b for b in branches if r is not None and b["start"] == r["start"]), None)
            return r, b
        nm, _ = pick(rows, page["projector branches"], "restricted", "unbiased")
        af, b_af = pick(rows, page["projector branches"], "polarized", "unbiased, AFM seed")
        nm0, _ = pick(page["rows"], page["branches"], "restricted", "unbiased")
        af0, b_af0 = pick(page["rows"], page["branches"], "polarized", "unbiased, AFM seed")
        if nm is None or af is None:
            out.append(f"- With GPAW's unscaled d projectors at U_eff = {U:g} eV: not both spin treatments converged.")
            continue
        d = lambda a, b: 1000 * (a["E_eV"] - b["E_eV"]) / n_fu   # noqa: E731
        m = lambda b: max(abs(_step(b, U)["magnetic_moments_muB"][a]) for a in metals)   # noqa: E731
        said = (f"- A sensitivity check, not part of the verdict: with GPAW's unscaled d projectors (':d,U,0', the "
                f"occupation matrix counts only the part of the d orbitals inside the PAW sphere) the AFM-seeded state at "
                f"U_eff = {U:g} eV lies {d(af, nm):+.0f} meV/f.u. from the spin-0 state, GPAW's local moment {m(b_af):.2f} "
                f"μB, largest spin-orbital occupation {max_spin_orbital(b_af, metals, U):.2f}")
        if nm0 is not None and af0 is not None and b_af0 is not None:
            said += (f" (the same start with the default projectors: {d(af0, nm0):+.0f} meV/f.u., {m(b_af0):.2f} μB, "
                     f"{max_spin_orbital(b_af0, metals, U):.2f})")
        # where the default projectors come as close: the AFM seed's runs below the read window
        spin0 = lowest_by_U([r for r in page["rows"] if r["spin"] == "restricted"], converged_only=True)
        near = [(r["U (eV)"], r["ΔE (meV/f.u.)"] - spin0[r["U (eV)"]]) for r in page["rows"]
                if r["start"].startswith("unbiased, AFM seed") and r["converged"] and r["U (eV)"] < U and r["U (eV)"] in spin0]
        if near:
            said += ("; the default projectors give such a margin only at smaller U_eff ("
                     + ", ".join(f"{dE:+.0f} at {u:g} eV" for u, dE in sorted(set(near), reverse=True)) + " meV/f.u.)")
        out.append(said + ": the same U_eff acts more weakly on the smaller occupations, so this nominal comparison "
                   "does not decide part (b)" + ("; the next line reads (b) at these projectors' own calibrated U_eff."
                                                 if page.get("projector read_at") else "."))
    return out


def projector_reading(page: dict) -> tuple[bool | None, list]:
    """Part (b), spin 0, with GPAW's unscaled d projectors at each U_eff of their calibrated window ('projector
    read_at'), among their own converged states (the unbiased spin-0 and AFM-seeded runs and the ordered spin-0
    starts of the plan): False where at every one the lowest is magnetic (lowest_states) and lies below the lowest
    spin-0 state by at least the k_BT margin, with every planned branch there computed; else None. The reading can
    confirm a failure only: a few starts can show a magnet below spin 0, not that spin 0 is the lowest state.
    Returns (False or None, per U_eff {'U', 'fails', 'dE' (the lowest magnetic state from the lowest spin-0 state,
    meV/f.u.; None unless both converged), '|m|' (its largest moment from the d occupations, muB), 'missing' (planned
    branches there not computed)})."""
    b_ = valence_verdicts.VALENCE_PARTS[1]
    rows = page.get("projector rows") or []
    low = {x["U (eV)"]: x for x in lowest_states(rows)}
    n_fu = len(_metals(page))
    per_U = []
    for U in page.get("projector read_at", []):
        conv = [r for r in rows if r["U (eV)"] == U and r["converged"]]
        nm = min((r for r in conv if r["spin"] == "restricted"), key=lambda r: r["E_eV"], default=None)
        af = min((r for r in conv if r["spin"] == "polarized"), key=lambda r: r["E_eV"], default=None)
        dE = 1000 * (af["E_eV"] - nm["E_eV"]) / n_fu if nm is not None and af is not None else None
        missing = [b["start"] for b in page.get("projector branches", []) if U in b.get("U_grid", []) and b.get("result") is None]
        fails = (not missing and dE is not None and dE <= -valence_verdicts.DEGENERATE_MEV_PER_FU
                 and U in low and low[U][b_] is False)
        per_U.append({"U": U, "fails": fails, "dE": dE, "|m|": None if af is None else max(af["|m| (μB)"]),
                      "missing": missing})
    fails = bool(per_U) and all(x["fails"] for x in per_U)
    return (False if fails else None), per_U


def projector_said(per_U: list) -> str:
    """projector_reading's per-U_eff list in words: the AFM-seeded state from the spin-0 state and its moment."""
    def one(x):
        if x["dE"] is None:
            return f"not both spin treatments converged at {x['U']:g} eV"
        return (f"{x['dE']:+.0f} meV/f.u. at {x['U']:g} eV (|m| {x['|m|']:.2f} μB from the d occupations"
                + ("" if x["fails"] or x["missing"] else ", not a magnet below spin 0 beyond k_BT") + ")")
    missing = list(dict.fromkeys(m for x in per_U for m in x["missing"]))
    return ("the lowest magnetic state from the lowest spin-0 state (unbiased and ordered spin-0 starts): "
            + "; ".join(one(x) for x in per_U)
            + (f"; not computed yet, so nothing is decided where they run: {', '.join(missing)}" if missing else ""))


def numerics_reading(page: dict) -> tuple[bool | None, list]:
    """Part (b), spin 0, read again with other numerics (the profile's 'numerics' plan: the unbiased spin-0 and
    AFM-seeded states at one U_eff, with a denser k grid or a narrower smearing), each variant among its own two
    states: False where in every variant the AFM-seeded state is a magnet (part (b) fails on it) lying below the
    spin-0 state by at least the k_BT margin; else None. Like projector_reading it can confirm a failure of (b),
    not that (b) holds. Returns (False or None, per variant {'numerics', 'U', 'dE' (the magnet from the spin-0
    state, meV/f.u.; None unless both converged), '|m|' (largest moment from the d occupations, muB), 'fails',
    'missing' (its branches not computed)}), with the profile's own numerics first ('numerics': 'profile')."""
    b_ = valence_verdicts.VALENCE_PARTS[1]
    branches = page.get("numerics branches") or []
    n_fu = len(_metals(page))
    groups = {}
    for b in branches:
        groups.setdefault(numerics_label(b["overrides"]), []).append(b)
    U_values = sorted({U for b in branches for U in b["U_grid"]})
    per = []
    for U in U_values:
        # the same starts on the profile's numerics: the 'below' plan's runs begun at this U_eff
        own = [r for r in page["rows"] if r["U (eV)"] == U and r["start"] in {f"{b['numerics_of']}, from {U:g} eV" for b in branches}]
        for label, rows, missing in [("profile", own, [])] + [
                (k, step_rows(v, page["one_t"], n_fu), [b["start"] for b in v if b.get("result") is None])
                for k, v in groups.items()]:
            conv = [r for r in rows if r["U (eV)"] == U and r["converged"]]
            nm = min((r for r in conv if r["spin"] == "restricted"), key=lambda r: r["E_eV"], default=None)
            af = min((r for r in conv if r["spin"] == "polarized"), key=lambda r: r["E_eV"], default=None)
            dE = 1000 * (af["E_eV"] - nm["E_eV"]) / n_fu if nm is not None and af is not None else None
            fails = (not missing and dE is not None and dE <= -valence_verdicts.DEGENERATE_MEV_PER_FU and af[b_] is False)
            per.append({"numerics": label, "U": U, "dE": dE, "|m|": None if af is None else max(af["|m| (μB)"]),
                        "fails": fails, "missing": missing})
    checks = [x for x in per if x["numerics"] != "profile"]
    return (False if checks and all(x["fails"] for x in checks) else None), per


def numerics_line(page: dict) -> str:
    """One Markdown line: part (b) read again with a denser k grid and a narrower smearing (numerics_reading); ''
    without that plan."""
    if not page.get("numerics branches"):
        return ""
    v, per = numerics_reading(page)

    def one(x):
        if x["missing"]:
            return f"{x['numerics']}: not computed yet"
        if x["dE"] is None:
            return f"{x['numerics']}: not both states converged"
        return f"{x['numerics']}: {x['dE']:+.0f} meV/f.u. (|m| {x['|m|']:.2f} μB)"
    U = ", ".join(dict.fromkeys(f"{x['U']:g}" for x in per))
    return (f"- **Part (b) with other numerics** (the $k$ grid and the smearing are choices of ours): the AFM-seeded state "
            f"from the spin-0 state at U_eff = {U} eV, each started there unbiased: " + "; ".join(one(x) for x in per) + ". "
            + ("The magnet stays below spin 0 beyond k_BT in every variant: (b) fails whatever these choices."
               if v is False else "Until every variant is computed and shows a magnet below spin 0 beyond k_BT, this "
               "leaves (b) open."))


def projector_line(page: dict) -> str:
    """One Markdown line: part (b) read with GPAW's unscaled d projectors at their calibrated window; '' without
    that plan."""
    if not page.get("projector read_at"):
        return ""
    v, per_U = projector_reading(page)
    where = ", ".join(f"{U:g}" for U in page["projector read_at"])
    return (f"- **Part (b) with GPAW's other d projectors** (unscaled, ':d,U,0'), read at U_eff = {where} eV, the window "
            "that corresponds to the paper's 3 eV for these projectors, measured like the default's on the "
            "antiferro-orbital page (in the charge response of the unpolarized distorted layer, assumed to carry over to "
            f"these magnetic states): {projector_said(per_U)}. "
            + ("A magnet lies below spin 0 at every one, so the two projectors agree on (b): DFT+U at "
               "these U_eff (Dudarev's, without a J of its own) does not give the spin-0 W$^{4+}$ the paper reads from "
               "WTe$_2$'s diamagnetism, a disagreement of the method with the material, not a magnetic WTe$_2$."
               if v is False else ("Until they are computed this reading leaves (b) open." if any(x["missing"] for x in per_U)
                                   else "Not a magnet below spin 0 beyond k_BT at every one, so this reading leaves (b) "
                                   "undetermined (this reading can confirm a failure of (b), not that it holds).")))


def _silent(y: dict | None, part: str) -> bool:
    """Whether a lowest state of lowest_states leaves `part` to the other readings: part (a) where no state within
    the margin has an integer t2g count (and none disproportionates) and no unconverged step lies below."""
    return (y is not None and part == valence_verdicts.VALENCE_PARTS[0] and y.get("silent", {}).get(part, False)
            and not y["unconverged below"])


def origin_readings(page: dict) -> dict:
    """{'' (all states) and ' (restricted)' where spin-polarized states exist and the page reads the restricted
    ones ('lowest restricted'): origin_reading at the page's last U_eff}; empty without rows or a last U_eff."""
    rows, U = page.get("rows") or [], page.get("U_last")
    if not rows or U is None:
        return {}
    out = {"": origin_reading(rows, U)}
    restricted = [r for r in rows if r["spin"] == "restricted"]
    if restricted and len(restricted) < len(rows) and page.get("lowest restricted"):
        out[" (restricted)"] = origin_reading(restricted, U)
    return out


def tolerance_findings(rows: list, U: float, origins: list, tag: str = "") -> list:
    """Markdown lines: whether the annealing's own reading at U_eff = `U` (continuous_origins, whose
    `origins` at the page's tolerance are given; `tag` names the set of states read) names the same
    configurations with each tolerance of CONTINUITY_TOL_CHECKS on the jumps, and if none, why
    (origin_reading); the tolerance is a choice of ours."""
    names = lambda os: sorted(o["start"] for o in os)          # noqa: E731
    said = []
    for tol in CONTINUITY_TOL_CHECKS:
        other = continuous_origins(rows, U, tol)
        why = "" if other else origin_reading(rows, U, tol)[1]
        said.append(f"{tol:g} meV/f.u.: " + ("the same" + ("" if origins else f" ({why})")
                                               if names(other) == names(origins) else
                                               (", ".join(names(other)) or why)))
    return [f"- The annealing's own reading{tag} with other tolerances on the jumps (the page's is "
            f"{CONTINUITY_TOL_MEV_PER_FU:g} meV/f.u.): " + "; ".join(said) + "."]

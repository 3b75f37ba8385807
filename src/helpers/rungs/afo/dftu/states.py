"""Reading the DFT+U releases: the state of each step (natural orbitals per W, overlaps, dipole), controlled releases, state tables."""
from __future__ import annotations

import re
import numpy as np

from helpers.dft.branch_steps import step_converged, step_residuals
from helpers.models import natural as nat
from .plans import MAIN_READING, ORDERED_STARTS, PROFILE_NUMERICS, PROTOCOL_DIRECT, RELEASE_LAST_MAX, annealed_protocol, comparable_key


def step_state(step: dict, metals: list, orbitals: np.ndarray | None = None, gap_min: float | None = None,
               afo_max: float | None = None) -> dict:
    """What the state of one recorded step is: natural orbitals of each metal, the classification
    (helpers.models.natural.classify with its polarization threshold `gap_min`, default natural.GAP_MIN;
    W1-W2 pair mapped through inversion: identity on d functions), and, with `orbitals`, the weight of
    a, b, c in each metal's filled orbital."""
    sites = [nat.natural_orbitals(*[np.asarray(n) for n in step["occupations"][str(a)]]) for a in metals]
    out = nat.classify(sites, gap_min=nat.GAP_MIN if gap_min is None else gap_min, afo_max=afo_max)
    out["natural_occupations"] = [s["occupations"].tolist() for s in sites]
    if orbitals is not None:
        out["abc_weights"] = [nat.filled_orbital_overlaps(s, np.asarray(orbitals)[:, :3]).tolist() for s in sites]
    return out


def release_controlled(result: dict, residuals: list, ordered) -> tuple:
    """Whether a branch's release was controlled, and whether its order held to the last bias: every step
    before the last converged (step_converged with `residuals`, from step_residuals), the bias went to zero
    from at most RELEASE_LAST_MAX eV (a larger last drop is a jump, not a release), and a state that ends
    unordered had already lost its order under the bias (`ordered`: a function of a step, whether its state
    is ordered), in the step that removed the bias. Order held at the last biased step and gone without the bias
    may be one SCF stepping over a shallow minimum, not evidence that no ordered state exists. (None, False)
    without a biased step."""
    steps = result["steps"]
    lams = [x.get("lambda_eV", 0.0) for x in steps]
    if not any(l > 0 for l in lams):
        return None, False
    i_last = max(i for i, l in enumerate(lams) if l > 0)
    # the step that removed the bias (an annealed branch's later steps lower U: what they lose is not the release's)
    held = i_last + 1 < len(steps) and not ordered(steps[i_last + 1]) and ordered(steps[i_last])
    res = list(residuals) + [None] * (len(steps) - len(residuals))
    ok = (all(step_converged(x, q) for x, q in zip(steps[:-1], res)) and lams[i_last] <= RELEASE_LAST_MAX
          and not held)
    return ok, bool(held)


def final_step(result: dict) -> dict:
    """The last recorded step of a branch (unbiased, at the last U)."""
    return result["steps"][-1]


def state_rows(results: dict, metals: list, orbitals: np.ndarray, n_fu: int) -> list:
    """One row per branch {name: dftu_branch result} at its final (unbiased) step: energy relative to
    the lowest unpolarized state (meV per f.u.), what the state is (kind, largest natural occupation
    per W, overlap of the W's filled orbitals, weights of a, b, c in them), d counts, moments and the
    out-of-plane dipole (e*Angstrom per cell, dipole layer in the vacuum)."""
    rows = []
    for name, r in results.items():
        st = final_step(r)
        s = step_state(st, metals, orbitals)
        rows.append({"state": name, "U_eV": st["U_eV"], "E_eV": st["energy_eV"], "kind": s["kind"],
                     "largest": s["largest"], "overlap": s["overlaps"][0] if s["overlaps"] else np.nan,
                     "abc_weights": s["abc_weights"], "d_counts": s["d_counts"],
                     "moments_muB": st.get("magnetic_moments_muB", [0.0] * (max(metals) + 1)),
                     "dipole_z_eA": st["dipole_eA"][2]})
    ref = [x["E_eV"] for x in rows if x["kind"] == "unpolarized"]
    e0 = min(ref) if ref else np.nan
    for x in rows:
        x["E - E_unpolarized (meV/f.u.)"] = 1000 * (x["E_eV"] - e0) / n_fu
    return rows


def annealed_steps(jobs: list) -> list:
    """The annealed branches cut into one job-like record per unbiased step (the released state at
    the largest U_eff, then every lower U_eff), each with the branch's steps up to that one, so that
    state_table reads them like separate branches; 'protocol' names the annealing."""
    out = []
    for j in jobs:
        r = j.get("result")
        if r is None:
            continue
        protocol = j.get("protocol", annealed_protocol(j["U_grid"][0], False, "unbiased"))
        residuals = step_residuals(r)          # the branch's log, read once for all its steps
        for i, st in enumerate(r["steps"]):
            if st["lambda_eV"] != 0:
                continue
            out.append({"spin": j["spin"], "U_eV": st["U_eV"], "reading": j["reading"], "orbitals": j.get("orbitals"),
                        "state": j["state"],
                        "protocol": protocol, "numerics": j.get("numerics", ""), "convergence": j.get("convergence", False),
                        "result": {"steps": r["steps"][:i + 1], "inputs": r.get("inputs")}, "residuals": residuals})
    return out


def _numerics_detail(inputs: dict | None) -> str:
    """'8×4, 0.05': the k grid and Fermi width (eV) a branch ran with, from its cache inputs ('' if unknown)."""
    if not inputs or "kpts" not in inputs:
        return ""
    return f"{'×'.join(str(k) for k in inputs['kpts'][:2])}, {inputs['smearing']:g}"


def state_table(jobs: list, metals: list, orbitals: np.ndarray, n_fu: int, dipole_norm=None,
                gap_min: float | None = None, afo_max: float | None = None) -> list:
    """One row per computed branch at its final, unbiased step: spin treatment, U_eff (eV), start,
    energy relative to the lowest unpolarized state of the same spin treatment and U (meV/f.u.),
    what the state is (kind; per W the two largest natural occupations; the overlap of W1's and
    W2's filled orbitals; the weights of a, b, c in each), d counts, |moments| (muB), the
    out-of-plane dipole (e*Angstrom per cell; with `dipole_norm`, a function of it returning the value
    per f.u. volume in microC/cm2 or a dict {normalization: value}, also in those, each a column
    'p_z <normalization>'), and whether the start's pattern survived the release. `gap_min`, `afo_max`: the
    polarization and AFO-overlap thresholds of the classification (step_state)."""
    rows = []
    for j in jobs:
        r = j.get("result")
        if r is None:
            continue
        st = r["steps"][-1]
        s = step_state(st, metals, orbitals if j.get("orbitals") is None else j["orbitals"], gap_min, afo_max)   # a, b, c of its reading
        nat_occ = s["natural_occupations"]
        row = {"spin": j["spin"], "U (eV)": j["U_eV"], "protocol": j.get("protocol", PROTOCOL_DIRECT),
               "numerics": j.get("numerics") or PROFILE_NUMERICS,
               "reading": j["reading"], "start": j["state"], "convergence check": bool(j.get("convergence")),
               "E_eV": st["energy_eV"], "state": s["kind"],
               "W1 n1, n2": f"{nat_occ[0][0]:.2f}, {nat_occ[0][1]:.2f}",
               "W2 n1, n2": f"{nat_occ[1][0]:.2f}, {nat_occ[1][1]:.2f}",
               "overlap W1-W2": s["overlaps"][0],
               "W1 filled (a, b, c)": ", ".join(f"{x:.2f}" for x in s["abc_weights"][0]),
               "W2 filled (a, b, c)": ", ".join(f"{x:.2f}" for x in s["abc_weights"][1]),
               "d counts": ", ".join(f"{x:.2f}" for x in s["d_counts"]),
               "k grid, width (eV)": _numerics_detail(r.get("inputs")),
               "|m| (μB)": max(abs(x) for x in st.get("magnetic_moments_muB", [0.0])),
               "p_z (e·Å)": st["dipole_eA"][2]}
        if dipole_norm is not None:
            norm = dipole_norm(st["dipole_eA"][2])
            for name, value in (norm.items() if isinstance(norm, dict) else [("per f.u. volume (μC/cm²)", norm)]):
                row[f"p_z {name}"] = value
        row["b + c in filled orbitals"] = min(w[1] + w[2] for w in s["abc_weights"])
        first = r["steps"][0]
        # the constrained DFT+U energy of the biased state (E - E_bias at the first, strongest bias): how far
        # above the unbiased state the polarized configuration lies, whether or not it survives the release
        row["_E_constrained"] = (first["energy_eV"] - first.get("bias_energy_eV", 0.0)
                                 if first.get("lambda_eV", 0) > 0 and first["U_eV"] == st["U_eV"] else None)
        res = j["residuals"] if "residuals" in j else step_residuals(r)
        res = res + [None] * (len(r["steps"]) - len(res))
        # the final step by the same rule as every other (helpers.dft.branch_steps.step_converged)
        row["converged"] = step_converged(st, res[len(r["steps"]) - 1])     # (res may run past a cut branch's steps)
        row["release controlled"], row["order held to the last bias"] = release_controlled(
            r, res, lambda x: step_state(x, metals, None, gap_min)["kind"] in ORDERED)
        row["_N"] = [np.add(*np.asarray(st["occupations"][str(a)])) for a in metals]
        if j.get("re-read"):
            row["re-read"] = True
        rows.append(row)
    # a start that ends in a converged unbiased state's density (same spin treatment and U, by any protocol) is that
    # state, read as that state is, whatever a threshold says of the start's own numbers; an unbiased state is read
    # by what it is, never relabelled by another SCF's (an unconverged one is no state to compare with)
    ref_rows = [x for x in rows if x["start"] == "unbiased" and not x.get("re-read") and x["converged"]]
    for row in rows:
        same = [x for x in ref_rows if comparable_key(x) == comparable_key(row) and x is not row
                and not (row.get("re-read") and x["protocol"] == row["protocol"])
                and max(np.abs(a - b).max() for a, b in zip(row["_N"], x["_N"])) < 0.02 and abs(row["E_eV"] - x["E_eV"]) < 1e-3]
        row["= unbiased state"] = bool(same)
        if same and row["start"] != "unbiased":
            row["state"] = same[0]["state"]
    for row in rows:
        row.pop("_N")
    for row in rows:
        # the reference: the unpolarized states and the unbiased one, whatever its label (an a-leaning unbiased
        # state near the polarization threshold is the paper's a^2 reference all the same), and a converged FO
        # of a (the paper's a^2 itself, where it is a state of its own: the a2a2 control released at 8 eV)
        cand = [x for x in rows if (x["state"] == "unpolarized" or x["start"] == "unbiased" or _a_ordered(x))
                and comparable_key(x) == comparable_key(row)]
        # a converged reference where one exists (an SCF stopped at its cap has an energy off by its residual)
        ref = [x["E_eV"] for x in cand if x["converged"]] or [x["E_eV"] for x in cand]
        row["ΔE (meV/f.u.)"] = 1000 * (row["E_eV"] - min(ref)) / n_fu if ref else np.nan
        ec = row.pop("_E_constrained")
        row["ΔE constrained, full bias (meV/f.u.)"] = 1000 * (ec - min(ref)) / n_fu if ref and ec is not None else np.nan
    return rows


#: |p_z| (e*Angstrom per cell) below which a dipole counts as zero (an AFO state non-polar in the verdicts' evidence; a
#: dipole symmetry forces to zero, helpers.rungs.fe.dftu_dipoles): the unbiased states' |p_z| is at most about 10^-4 e*Angstrom,
#: the polar biased AFO's 0.008-0.015.
NON_POLAR_EA = 2e-3

#: The starts whose states reference_rereads reads again in another reading: the unbiased state and the a2a2 control
#: (the paper's a^2 where it is a state of its own; the same state by another SCF where both converge).
REREAD_STARTS = ("unbiased", "a2a2")


def reference_rereads(records: list) -> list:
    """The unbiased and a2a2 records (REREAD_STARTS) read again in each other reading of a, b, c that a protocol uses at the same spin
    treatment, U_eff and numerics (its biased starts' reading), marked 're-read': a state that is the a^2 reference
    in the main reading may be an order of b and c in a rotated frame (the local octahedral frame's FO of
    (b + c)/sqrt(2)), and that protocol's verdicts rank its states against it there. The natural orbitals, and so
    the kind of state, do not depend on the reading; the weights of a, b, c do."""
    key = lambda rec: (rec["spin"], rec["U_eV"], rec.get("numerics") or PROFILE_NUMERICS)   # noqa: E731
    uses = {}
    for rec in records:
        if rec.get("result") is not None and rec["state"] != "unbiased" and rec["reading"] != MAIN_READING \
                and rec.get("orbitals") is not None:
            uses.setdefault(rec["reading"], (rec["orbitals"], set()))[1].add(key(rec))
    return [dict(rec, reading=reading, orbitals=orbitals, **{"re-read": True})
            for reading, (orbitals, keys) in uses.items() for rec in records
            if rec["state"] in REREAD_STARTS and rec.get("result") is not None and rec["reading"] != reading
            and not rec.get("re-read") and key(rec) in keys]


def _a_ordered(row: dict) -> bool:
    """Whether a state-table row is a converged FO state of a (b + c at most 0.5 in its filled orbitals): the paper's
    a^2 as a state of its own. Not a mixed or AFO state leaning to a, whose two W fill different orbitals (the local
    octahedral frame's AFO reads 0.71 a in the energy order)."""
    return row["converged"] and row["state"] == "FO" and row["b + c in filled orbitals"] <= 0.5


def survival_line(rows: list) -> str:
    """One Markdown line: whether any b/c start (ORDERED_STARTS) of the state table ends, where its bias was
    released, in a converged state polarized toward b or c. Counted are the releases themselves (not the lower
    U_eff reached by continuation, nor the numerics checks), and only controlled ones; the U_eff, spin treatments
    and readings they cover are named, with the starts that ended unconverged and still ordered (their final
    state unknown). '' when no b/c start was computed."""
    def released(r):
        U0 = re.match(r"annealed from ([0-9.]+) eV", r.get("protocol", ""))
        return not (U0 and r["U (eV)"] < float(U0.group(1)))
    rows = [r for r in rows if not r.get("convergence check") and r["start"] in ORDERED_STARTS and released(r)]
    if not rows:
        return ""
    alive = [r for r in rows if r["converged"] and r["state"] in ORDERED and r["b + c in filled orbitals"] > 0.5]
    # converged with one W ordered and the other not: not the paper's W4+ orbital order on every W, said apart
    partly = [r for r in rows if r["converged"] and r["state"] not in ORDERED and r["state"] != "unpolarized"]
    unknown = [r for r in rows if not r["converged"] and r["state"] != "unpolarized"]
    said_partly = ("" if not partly else " Ended converged but ordered on one W only, not the paper's order on every W "
                   "(its natural occupations per W, n1 and n2, and d counts): "
                   + "; ".join(f"{r['start']} at {r['U (eV)']:g} eV ({r['protocol']}; W1 {r['W1 n1, n2']}, W2 {r['W2 n1, n2']}; "
                               f"d counts {r['d counts']}; release {'' if r.get('release controlled') else 'not '}controlled)"
                               for r in partly) + ".")
    scope = lambda rs: (f"$U_\\mathrm{{eff}}$ {', '.join(f'{U:g}' for U in sorted({r['U (eV)'] for r in rs}))} eV, "   # noqa: E731
                        f"{' and '.join(sorted({r['spin'] for r in rs}))}, "
                        f"{' and '.join(sorted({r['reading'] for r in rs}))} reading{'s' if len({r['reading'] for r in rs}) > 1 else ''}")
    if alive:
        # starts that end in one state (same spin treatment, U, numerics and energy to 1 meV per cell) are said once
        same = {}
        for r in alive:
            same.setdefault(comparable_key(r) + (round(r["E_eV"], 3),), []).append(r)
        said = "; ".join(
            f"{' and '.join(r['start'] for r in g)} at {g[0]['U (eV)']:g} eV ({g[0]['spin']}, "
            f"{' and '.join(sorted({r['reading'] for r in g}))} reading; {g[0]['state']}, {g[0]['ΔE (meV/f.u.)']:+.1f} meV/f.u.; "
            "release " + ", ".join(f"{r['start']} {'controlled' if r.get('release controlled') else 'not controlled'}" for r in g) + ")"
            for g in same.values())
        return (f"- Ordered states after the release: {len(alive)} of {len(rows)} releases of b/c starts end in "
                f"{len(same)} converged state{'s' if len(same) > 1 else ''} polarized toward $b$ or $c$ on every W, each in "
                f"its own reading of a, b, c: {said}." + said_partly)
    settled = [r for r in rows if r["converged"] and r.get("release controlled") and r not in partly]
    if not settled:
        return ("- No release of a b/c start settled under control"
                + (": ended unconverged and still ordered, final state unknown: "
                   + ", ".join(sorted({f"{r['start']} at {r['U (eV)']:g} eV" for r in unknown})) if unknown else "")
                + "." + said_partly)
    loose = [r for r in rows if r not in settled and r not in unknown and r not in partly]
    line = (f"- **No ordered state survives the release**: none of the {len(settled)} controlled releases of the b/c starts "
            f"({scope(settled)}) ends polarized toward $b$ or $c$; each falls into the unpolarized state, so the ordered "
            "states the paper ranks are not found as DFT+U states there.")
    if loose:
        line += f" {len(loose)} releases that were not controlled ended unpolarized too; they are not counted."
    if unknown:
        line += (" Ended unconverged and still ordered, their final state unknown (where they stopped, from the reference): "
                 + ", ".join(sorted({f"{r['start']} at {r['U (eV)']:g} eV ({r['protocol']}; {r['ΔE (meV/f.u.)']:+.0f} meV/f.u.)"
                                     for r in unknown})) + ".")
    return line + said_partly


def annealed_survival(rows: list) -> list:
    """Per annealed start (not the unbiased one): what its state is at each U_eff, and the lowest U_eff
    (eV) at which it is still orbitally polarized (None if never). Rows {start, protocol, states
    {U: kind}, lowest polarized U (eV), ΔE there (meV/f.u.)}."""
    out = []
    ann = [r for r in rows if r.get("protocol", PROTOCOL_DIRECT) != PROTOCOL_DIRECT and r["start"] != "unbiased"
           and not r.get("convergence check")]
    for (start, protocol) in dict.fromkeys((r["start"], r["protocol"]) for r in ann):
        sub = sorted((r for r in ann if (r["start"], r["protocol"]) == (start, protocol)), key=lambda r: -r["U (eV)"])
        pol = [r for r in sub if r["state"] != "unpolarized" and r["converged"]]
        low = min(pol, key=lambda r: r["U (eV)"]) if pol else None
        out.append({"start": start, "protocol": protocol,
                    "states": {r["U (eV)"]: r["state"] + ("" if r["converged"] else " (not converged)") for r in sub},
                    "lowest polarized U (eV)": low["U (eV)"] if low else None,
                    "ΔE there (meV/f.u.)": low["ΔE (meV/f.u.)"] if low else None})
    return out


def release_end(result: dict) -> str:
    """Where a release's biased minimum ends: the two bias strengths (eV) at the first U_eff between which the
    metals' occupation matrices N_up + N_dn change most, as 'l1 and l2'; '' for fewer than two steps there."""
    steps = [st for st in result["steps"] if st["U_eV"] == result["steps"][0]["U_eV"]]
    if len(steps) < 2:
        return ""
    N = [{a: np.add(*np.asarray(n)) for a, n in st["occupations"].items()} for st in steps]
    k = max(range(1, len(N)), key=lambda i: max(np.abs(N[i][a] - N[i - 1][a]).max() for a in N[i]))
    return f"{steps[k - 1]['lambda_eV']:g} and {steps[k]['lambda_eV']:g}"

#: Biased configurations are compared at equal occupation, not at equal bias strength (an equal lambda gives
#: different occupations to different targets): on a grid of this step in the largest natural occupation n1.
OCCUPATION_STEP = 0.1


def occupation_curve(release: list, start: str, protocol: str) -> tuple[np.ndarray, np.ndarray]:
    """The constrained energy E - E_bias - E_ref (meV/f.u.) of one start's release against its occupation n1,
    the largest natural occupation of N_up + N_dn averaged over the metals: the biased steps (lambda > 0) that
    hold an order on every W (ORDERED, read from their natural orbitals), in release order, sorted by n1. The
    curve stops at the first step that does not (a W that has lost its order makes the mean n1 a mixture), before
    the first unconverged biased step (it is not bridged) and before the first step whose n1 rises against the
    one before by more than N1_RISE_TOL: past it E is no longer one function of n1."""
    steps = sorted((r for r in release if (r["start"], r["protocol"]) == (start, protocol) and r["lambda (eV)"] > 0),
                   key=lambda r: -r["lambda (eV)"])
    pts = []
    for r in steps:
        n1 = float(np.mean(r["largest natural occupations"]))
        if not r["converged"] or (pts and n1 > pts[-1][0] + N1_RISE_TOL) or r.get("state", "FO") not in ORDERED:
            break
        pts.append((n1, r["E - E_bias - E_ref (meV/f.u.)"]))
    pts.sort()
    return np.array([p[0] for p in pts]), np.array([p[1] for p in pts])


#: A release's n1 may wobble by this much (electrons) between steps and still count as falling with the bias.
N1_RISE_TOL = 0.01
#: The states (state_table's reading of the natural orbitals) in which every W is polarized: FO, AFO, and 'mixed'
#: (polarized W whose leading orbitals are neither parallel nor orthogonal), not 'partly polarized'.
ORDERED = ("FO", "AFO", "mixed")


def at_equal_occupation(curves: dict) -> dict:
    """{n1: {start: E (meV/f.u.)}} on the OCCUPATION_STEP grid where every curve of `curves` ({start: (n1, E)}
    from occupation_curve, at least two points each) covers n1: linear interpolation, never extrapolation."""
    if not curves or any(len(n) < 2 for n, _ in curves.values()):
        return {}
    lo, hi = max(n[0] for n, _ in curves.values()), min(n[-1] for n, _ in curves.values())
    grid = np.arange(np.ceil(lo / OCCUPATION_STEP - 1e-9), np.floor(hi / OCCUPATION_STEP + 1e-9) + 1) * OCCUPATION_STEP
    return {round(float(x), 3): {s: float(np.interp(x, n, E)) for s, (n, E) in curves.items()} for x in grid}


def _span(curve) -> str:
    n = curve[0]
    return f"{n[0]:.2f}–{n[-1]:.2f}" if len(n) > 1 else (f"{n[0]:.2f} only" if len(n) else "none")


def release_rows(jobs: list, n_fu: int, which: str = "main") -> list:
    """The constrained energy landscape of the annealed branches' releases: per biased branch and
    release step at the first U_eff, lambda (eV), E - E_bias (the DFT+U energy of the constrained
    density) relative to the unbiased reference at that U_eff (meV/f.u.), and whether the step
    converged (step_converged), the largest natural occupation of each metal's N_up + N_dn, and the largest
    change of any element of those matrices from the previous release step (0 at the first): a release that
    deforms its state continuously changes them a little per step; a jump marks where the biased minimum
    ended. Rows {start, protocol, lambda (eV), E - E_bias - E_ref (meV/f.u.), converged, largest natural
    occupations, max |Δn| from previous step}. `which`: 'main' leaves out the numerics checks, 'all' keeps them."""
    if which not in ("main", "all"):
        raise ValueError(f"which={which!r}: choose 'main' or 'all'")
    ref = {}
    for j in jobs:
        if j["state"] == "unbiased" and j.get("result"):
            for st in j["result"]["steps"]:
                ref.setdefault((j["spin"], st["U_eV"], j.get("numerics", "")), st["energy_eV"])
    out = []
    for j in jobs:
        r = j.get("result")
        if j["state"] == "unbiased" or r is None or (which == "main" and j.get("convergence")):
            continue
        U0 = j["U_grid"][0]
        res = step_residuals(r)
        res = res + [None] * (len(r["steps"]) - len(res))
        key = (j["spin"], U0, j.get("numerics", ""))
        prev = None
        for st, q in zip(r["steps"], res):
            if st["U_eV"] != U0 or key not in ref:
                continue
            N = {a: np.add(*np.asarray(n)) for a, n in st["occupations"].items()}
            metals = sorted((int(a) for a in st["occupations"]))
            out.append({"start": j["state"], "protocol": j["protocol"], "reading": j.get("reading", MAIN_READING),
                        "state": step_state(st, metals, j.get("orbitals"))["kind"],
                        "main-reading protocol": j.get("main-reading protocol", j["protocol"]), "lambda (eV)": st["lambda_eV"],
                        "E - E_bias - E_ref (meV/f.u.)": 1000 * (st["energy_eV"] - st.get("bias_energy_eV", 0.0)
                                                                 - ref[key]) / n_fu,
                        "converged": step_converged(st, q),
                        "largest natural occupations": [float(np.linalg.eigvalsh(N[a])[-1]) for a in sorted(N, key=int)],
                        "max |Δn| from previous step": 0.0 if prev is None else
                        float(max(np.abs(N[a] - prev[a]).max() for a in N))})
            prev = N
    return out

"""Sliding of bilayers: the path, barrier (meV per formula unit) and the temperature it sets."""
from __future__ import annotations

import numpy as np

from helpers.dft import jobs as dft_jobs
from helpers.dft import structures
from helpers.store import cache
from helpers.store import params
from .network import METALS


# --- the sliding path between the two polar stackings ---------------------------------------------
#: Points of the path between the two polar stackings (fraction s of the switching shift; s = 0 and
#: 1 are the two Td stackings, mirror images of each other), per profile; at least three.
PATH_POINTS = {"smoke": [0.0, 0.5, 1.0], "paper": [0.0, 0.25, 0.5, 0.75, 1.0]}
#: Extra vacuum (Angstrom beyond settings['vacuum']) and k-point densities of the convergence check,
#: each on VARIANT_POINTS.
PATH_CHECKS = {"smoke": {"vacua": [], "kpt_densities": []},
               "paper": {"vacua": [5.0], "kpt_densities": [6.0]}}
#: SCF criteria of the path (helpers.dft.jobs.sliding_path): tight at 'paper' (sub-meV differences); looser at
#: 'smoke', which checks the plumbing, not the numbers.
PATH_CONVERGENCE = {"smoke": {"energy": 1e-4, "density": 1e-3, "eigenstates": 1e-6},
                    "paper": {"energy": 1e-7, "density": 1e-6, "eigenstates": 1e-9}}
#: The D3 dispersion added to the PBE energies (Grimme's D3 with Becke-Johnson damping, PBE
#: parameters; the `dftd3` package).
D3 = {"method": "PBE", "damping": "d3bj"}


#: The points (fractions of the slide) of the convergence variants.
VARIANT_POINTS = [0.0, 0.5, 1.0]


def check_points(points) -> list:
    """Path fractions: at least three, increasing, within [0, 1]."""
    try:
        s = [float(x) for x in points]
    except (TypeError, ValueError):
        raise ValueError(f"points={points!r}: need a list of path fractions in [0, 1]") from None
    if len(s) < 3 or any(b <= a for a, b in zip(s, s[1:])) or s[0] < 0 or s[-1] > 1:
        raise ValueError(f"points={points!r}: a sliding path needs at least three increasing fractions in [0, 1]")
    return s


def layer_centres(slab) -> list:
    """Per layer (bottom to top) the mean position (Angstrom) of its metal atoms: each 1T' layer is
    centrosymmetric, its two metals related by inversion, so this is the layer's inversion centre."""
    sy = slab.get_chemical_symbols()
    return [slab.positions[[i for i in layer if sy[i] in METALS]].mean(axis=0)
            for layer in structures.layer_indices(slab)]


def switching_shift_A(slab) -> np.ndarray:
    """The in-plane shift (Angstrom, (x, y, 0)) of the upper layer of a bilayer that turns one polar
    stacking into its mirror image: the mirror z -> -z maps the in-plane offset D of the upper layer's
    centre from the lower one's onto -D (the mirrored lower layer is a translate of the original lower
    one, and the mirrored upper one of the upper), so the shift is -2D, reduced to the shortest
    lattice-equivalent vector."""
    c = layer_centres(slab)
    if len(c) != 2:
        raise ValueError(f"slab: need a bilayer, found {len(c)} layer(s)")
    d = -2.0 * (c[1] - c[0])
    d[2] = 0.0
    cell = np.array(slab.cell)[:2, :2]
    frac = np.linalg.solve(cell.T, d[:2])
    best = None
    for n in (-1, 0, 1):
        for m in (-1, 0, 1):
            w = (frac - np.round(frac) + [n, m]) @ cell
            if best is None or np.linalg.norm(w) < np.linalg.norm(best):
                best = w
    return np.array([best[0], best[1], 0.0])


def path_run(material: str, settings: dict, points=None, extra_vacuum_A: float = 0.0, force: bool = False) -> dict:
    """The Td bilayer along the sliding path (helpers.dft.jobs.sliding_path), the upper layer moved by
    s * switching_shift_A for each fraction s of `points` (default PATH_POINTS of the profile), with
    the egg-box check (the whole bilayer moved by the shift at s = 0.5), at the profile's vacuum plus
    `extra_vacuum_A`. Returns {'result', 'slab', 'shift_A', 'points', 'label'}."""
    s = check_points(PATH_POINTS[settings["profile"]] if points is None else points)
    vac = float(settings["vacuum"]) + float(extra_vacuum_A)
    bl = structures.slab(material, 2, vacuum=vac)
    d = switching_shift_A(bl)
    upper = [int(i) for i in structures.layer_indices(bl)[1]]
    label = f"{material}-Td-bilayer-slide" + (f"-vac{vac:g}" if extra_vacuum_A else "")
    r = dft_jobs.sliding_path(bl, settings, label, upper, [x * d for x in s], whole_shift_A=0.5 * d,
                              convergence=PATH_CONVERGENCE[settings["profile"]], force=force)
    return {"result": r, "slab": bl, "shift_A": d, "points": s, "label": label, "vacuum_A": vac}


def d3_energies_eV(run: dict) -> list:
    """The D3(BJ) dispersion energy (eV) of every path point of a path_run (computed here, cheap)."""
    from dftd3.ase import DFTD3
    out = []
    upper = structures.layer_indices(run["slab"])[1]
    for st in run["result"]["steps"]:
        if st["kind"] != "path":
            continue
        a = run["slab"].copy()
        p = a.positions
        p[upper] += np.array(st["shift_A"])
        a.positions = p
        a.calc = DFTD3(**D3)
        out.append(float(a.get_potential_energy()))
    return out


def path_rows(run: dict, n_fu: int) -> list:
    """One row per path point: s, shift (Angstrom), PBE, D3 and PBE+D3 energies relative to s = 0
    (meV per cell and per formula unit), p_z (e*Angstrom per cell, dipole-corrected)."""
    path = [st for st in run["result"]["steps"] if st["kind"] == "path"]
    d3 = d3_energies_eV(run)
    e0, d0 = path[0]["energy_eV"], d3[0]
    rows = []
    for s, st, e3 in zip(run["points"], path, d3):
        pbe, disp = 1000 * (st["energy_eV"] - e0), 1000 * (e3 - d0)
        rows.append({"s": s, "shift (Å)": float(np.linalg.norm(st["shift_A"])), "f.u. per cell": n_fu,
                     "ΔE PBE (meV/cell)": pbe, "ΔE D3 (meV/cell)": disp, "ΔE PBE+D3 (meV/cell)": pbe + disp,
                     "ΔE PBE+D3 (meV/f.u.)": (pbe + disp) / n_fu, "p_z (e·Å per cell)": st["dipole_eA"][2]})
    return rows


def eggbox_meV(run: dict) -> float:
    """The egg-box error (meV per cell): the energy change when the whole unshifted bilayer moves by
    half the switching shift, which changes nothing physical."""
    steps = run["result"]["steps"]
    whole = [st for st in steps if st["kind"] == "whole"]
    if not whole:
        return float("nan")
    return 1000 * (whole[0]["energy_eV"] - steps[0]["energy_eV"])


def barrier(rows: list) -> dict:
    """The sliding barrier from path_rows: the span of the PBE+D3 energy along the path, highest minus
    lowest point (meV per cell and per f.u.; the polar stacking need not be the lowest point of a
    rigid path), where the highest and lowest points lie (s), the highest point above the polar
    stacking, the same span for PBE alone, and the mirror check (E(1) - E(0), and p_z(1) + p_z(0):
    zero by symmetry for exactly centrosymmetric layers, a check of the path, not a result)."""
    key = "ΔE PBE+D3 (meV/cell)"
    top, low = max(rows, key=lambda r: r[key]), min(rows, key=lambda r: r[key])
    span = top[key] - low[key]
    pbe = [r["ΔE PBE (meV/cell)"] for r in rows]
    out = {"barrier (meV/cell)": span, "barrier (meV/f.u.)": span / rows[0]["f.u. per cell"],
           "at s": top["s"], "lowest at s": low["s"],
           "above s = 0 (meV/cell)": top[key] - rows[0][key], "PBE alone (meV/cell)": max(pbe) - min(pbe)}
    if rows[-1]["s"] == 1.0:
        out["mirror check E(1) − E(0) (meV/cell)"] = rows[-1]["ΔE PBE+D3 (meV/cell)"]
        out["mirror check p_z(1) + p_z(0) (e·Å)"] = rows[-1]["p_z (e·Å per cell)"] + rows[0]["p_z (e·Å per cell)"]
    return out


def page_results(material: str, settings: dict, points=None) -> dict:
    """The sliding path at the profile's settings and its convergence variants (PATH_CHECKS: a denser
    k grid, more vacuum; each on s = 0, 0.5, 1), with rows, barriers, egg-box errors; a variant not in
    the cache while the cache is required is listed under 'missing' instead of computed."""
    n_fu = 4
    main = path_run(material, settings, points)
    out = {"main": main, "rows": path_rows(main, n_fu), "eggbox_meV": eggbox_meV(main), "variants": {},
           "missing": [], "results": [main["result"]]}
    out["barrier"] = barrier(out["rows"])
    checks = PATH_CHECKS[settings["profile"]]
    variants = [(f"k density {k:g}/Å⁻¹", params.settings(settings["profile"], kpt_density=k), 0.0)
                for k in checks["kpt_densities"]]
    variants += [(f"vacuum {settings['vacuum'] + v:g} Å", settings, v) for v in checks["vacua"]]
    for label, st, vac in variants:
        try:
            r = path_run(material, st, VARIANT_POINTS, extra_vacuum_A=vac)
        except cache.CacheMiss:
            out["missing"].append(label)
            continue
        rows = path_rows(r, n_fu)
        out["variants"][label] = {"rows": rows, "barrier": barrier(rows), "eggbox_meV": eggbox_meV(r),
                                  "kpts": r["result"]["kpts"], "vacuum_A": r["vacuum_A"]}
        out["results"].append(r["result"])
    # the main path on the variants' points: the like-for-like reference of the convergence check
    same = [r for r in out["rows"] if any(abs(r["s"] - x) < 1e-9 for x in VARIANT_POINTS)]
    out["barrier on the variants' points"] = barrier(same) if len(same) == len(VARIANT_POINTS) else None
    return out


def barrier_table(page: dict, settings: dict) -> list:
    """One row per calculation of the path: k grid, vacuum, barrier (meV per cell and per f.u., PBE+D3
    and PBE alone), the mirror check and the egg-box error."""
    rows = []
    entries = [(f"k density {settings['kpt_density']:g}/Å⁻¹, vacuum {page['main']['vacuum_A']:g} Å",
                page["barrier"], page["eggbox_meV"], page["main"]["result"]["kpts"])]
    entries += [(k, v["barrier"], v["eggbox_meV"], v["kpts"]) for k, v in page["variants"].items()]
    for label, b, egg, kp in entries:
        rows.append({"calculation": label, "k grid": "×".join(map(str, kp)),
                     "barrier PBE+D3 (meV/cell)": b["barrier (meV/cell)"], "barrier (meV/f.u.)": b["barrier (meV/f.u.)"],
                     "highest at s": b["at s"], "lowest at s": b["lowest at s"],
                     "PBE alone (meV/cell)": b["PBE alone (meV/cell)"],
                     "E(1) − E(0) (meV/cell)": b.get("mirror check E(1) − E(0) (meV/cell)", np.nan),
                     "egg-box (meV/cell)": egg})
    return rows


def _direction(shift_A) -> str:
    """Where an in-plane shift points against the W chains (along the cell's a axis, the Td convention)."""
    v = np.asarray(shift_A, float)[:2]
    angle = float(np.degrees(np.arctan2(abs(v[1]), abs(v[0]))))
    if angle > 87:
        return "perpendicular to the chains"
    return "along the chains" if angle < 3 else f"at {angle:.0f}° to the chains"


def _convergence_text(page: dict, table: list) -> str:
    """The convergence sentence of findings: the variants (on VARIANT_POINTS) against the main path on the
    same points, so that the k-grid and vacuum effect is not mixed with the path's sampling."""
    if len(table) < 2:
        return " Its convergence in k grid and vacuum is not tested at this profile."
    ref = page.get("barrier on the variants' points")
    var = [v["barrier"]["barrier (meV/cell)"] for v in page["variants"].values()]
    if ref is None:
        return f" The variants (k grid, vacuum; s = {', '.join(f'{x:g}' for x in VARIANT_POINTS)}) span {min(var):.2f}–{max(var):.2f} meV per cell."
    d = max(abs(x - ref["barrier (meV/cell)"]) for x in var)
    return (f" On the points the convergence variants use (s = {', '.join(f'{x:g}' for x in VARIANT_POINTS)}) the same "
            f"path spans {ref['barrier (meV/cell)']:.2f} meV per cell and the denser k grid and larger vacuum change that "
            f"by at most {d:.2f} meV; the finer sampling of the main path adds the rest.")


def temperature_K(energy_meV: float) -> float:
    """The temperature E / k_B (K) of an energy in meV."""
    return energy_meV / 8.617333262e-2


def findings(page: dict, cited_meV: float, target_K: float) -> str:
    """Markdown: the barrier per cell and per f.u., its temperature scale against the target, its
    spread over the calculations, the mirror and egg-box checks, and the cited value beside it."""
    table = [page["barrier"]] + [v["barrier"] for v in page["variants"].values()]
    cells = [b["barrier (meV/cell)"] for b in table]
    lo, hi = min(cells), max(cells)
    b = page["barrier"]
    T = temperature_K(hi)
    lowest = ("the polar stacking (s = 0) is its lowest point" if b["lowest at s"] == 0 else
              f"the polar stacking is not its lowest point (that is at s = {b['lowest at s']:g}, "
              f"{b['above s = 0 (meV/cell)'] - b['barrier (meV/cell)']:+.2f} meV per cell from s = 0): with rigid, "
              "unrelaxed layers the path is flat within this span")
    lines = [f"- Along the rigid slide between the two polar stackings (upper layer moved by "
             f"{np.linalg.norm(page['main']['shift_A']):.3f} Å {_direction(page['main']['shift_A'])}) the energy varies by "
             f"**{b['barrier (meV/cell)']:.2f} meV per cell** ({b['barrier (meV/f.u.)']:.2f} meV per formula unit), "
             f"PBE + D3(BJ), highest at s = {b['at s']:g}; {lowest}. PBE alone spans "
             f"{b['PBE alone (meV/cell)']:.2f} meV per cell."
             + _convergence_text(page, table),
             f"- As a temperature, E_b/k_B = {temperature_K(lo):.0f}–{T:.0f} K per cell: "
             + ("below" if T < target_K else "not below") + f" the {target_K:g} K of the ferroelectric transition. "
             f"The paper cites about {cited_meV:g} meV without saying per what; our span is "
             f"{b['barrier (meV/cell)'] / cited_meV:.1f} times that per cell and {b['barrier (meV/f.u.)'] / cited_meV:.1f} "
             "times per formula unit"
             + (". The highest point is an end of the path, so the span is not a barrier between two minima: "
                "it is set largely by the end-to-end difference of a rigid slide of the experimental layers, and the "
                "comparison is one of scales only (a relaxed path, whose barrier is not computed here, would be needed "
                "for more)" if b["at s"] in (0.0, 1.0) else "") + "."]
    if "mirror check E(1) − E(0) (meV/cell)" in b:
        pz = [r["p_z (e·Å per cell)"] for r in page["rows"]]
        lines.append(f"- Consistency check (not a result): the end of the path, the mirror image of its start in stacking, "
                     f"lies {b['mirror check E(1) − E(0) (meV/cell)']:+.2f} meV per cell from it, and its dipole is "
                     f"{pz[-1]:+.4f} against {pz[0]:+.4f} e·Å per cell at the start (a mirror image would reverse it): the "
                     "experimental layers are themselves slightly polar, so a rigid slide cannot reach the exact mirror image. "
                     "Egg-box error "
                     f"(the whole bilayer moved, which changes nothing physical): {page['eggbox_meV']:+.3f} meV per cell.")
    if page["missing"]:
        lines.append(f"- Not yet computed at this profile: {', '.join(page['missing'])}.")
    return "\n".join(lines)

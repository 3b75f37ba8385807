"""The AFO page's layer models in each orbital reading, their levels, the robustness of the orbitals' identity, the page's scans and parameter checks, and the Wannier90 readings."""
from __future__ import annotations

import numpy as np

from helpers.dft import jobs as dft_jobs
from helpers.dft.layers import layer_structures
from helpers.dft.materials import metal_indices
from helpers.models import identity as idt
from helpers.models import pd as pd_models
from helpers.models.wannier90 import compare as w90_compare
from helpers.models.wannier90 import models as w90_models


def layer_model(lcao_result: dict, atoms, grid, e_low: float, width: float, window=pd_models.PD_WINDOW,
                name: str = "") -> dict:
    """The checked p-d model of a layer (helpers.models.pd.check_model) and its effective W-5d
    model: {'pd', 'eff', 'coeff', 'R', 'quality', 'atoms', 'lcao', 'settings'}."""
    pd = pd_models.pd_model(lcao_result, window)
    quality = pd_models.check_model(pd, lcao_result, atoms, name=name)
    eff, coeff, R = pd_models.downfold_d(pd, tuple(grid), e_low, width)
    return {"pd": pd, "eff": eff, "coeff": coeff, "R": R, "quality": quality, "atoms": atoms,
            "lcao": lcao_result, "settings": {"grid": list(grid), "e_low": e_low, "width": width,
                                               "window": list(window)}}


def onsite_block(eff, site: int = 0) -> np.ndarray:
    """The 5x5 on-site block (eV) of the `site`-th metal of an effective model."""
    sh = pd_models.d_shells(eff)[site]
    return np.real(eff.onsite()[np.ix_(sh, sh)])


def readings(m: dict, names_from_1T: list | None = None) -> dict:
    """identity.reading for every reading, on the first W of layer model `m`."""
    atom = pd_models.metal_atoms(m["eff"])[0]
    h5 = onsite_block(m["eff"])
    return {r: idt.reading(h5, m["atoms"], atom, r, names_from_1T if r == "continuity from 1T" else None)
            for r in idt.READINGS}


def readings_rows(layers: dict, names_from_1T: dict | None = None) -> list:
    """Rows (layer, reading, E_a, E_b, E_c in eV, b-c splitting meV, degenerate, forced by symmetry,
    a lowest) for layer models {name: m}."""
    rows = []
    for layer, m in layers.items():
        for r, x in readings(m, (names_from_1T or {}).get(layer)).items():
            e = x["energies_eV"]
            rows.append({"layer": layer, "reading": r, "E_a (eV)": e[0], "E_b (eV)": e[1], "E_c (eV)": e[2],
                         "|E_b - E_c| (meV)": 1000 * x["bc_splitting_eV"], "degenerate": x["degenerate"],
                         "forced by symmetry": x["forced by symmetry"], "a lowest": x["a lowest"]})
    return rows


def symmetry_rows(structures: dict) -> list:
    """Site symmetry of the first metal of each structure {name: atoms}."""
    rows = []
    for name, at in structures.items():
        metal = metal_indices(at)[0]
        rows.append({"structure": name, **idt.site_symmetry(at, metal)})
    return rows


def path_levels(path: list) -> tuple[list, list]:
    """Levels of the first W along a structural path [(lam, layer model m), ...] starting at the
    1T layer: the eigen-orbitals are followed continuously (identity.follow) and named at lam = 0
    after the trigonal orbitals (a1g, epi+-, esig+-). Returns (rows (lam, orbital, E eV, parity,
    smallest overlap), names of the last step's parity_levels eigenvectors, for reading())."""
    ops = [idt.site_operations(m["atoms"], pd_models.metal_atoms(m["eff"])[0]) for _, m in path]
    common = ops[-1]                      # the distorted site group (a subgroup of 1T's)
    blocks = [onsite_block(m["eff"]) for _, m in path]
    steps = idt.follow(blocks, common)
    m0 = path[0][1]
    atom0 = pd_models.metal_atoms(m0["eff"])[0]
    trig, tnames = idt.trigonal_orbitals(idt.octahedral_frame(m0["atoms"], atom0), common)
    names = idt.name_by_overlap(steps[0]["vectors"], trig, tnames)
    rows = []
    for (lam, _), st in zip(path, steps):
        for n, e, p in zip(names, st["energies"], st["parity"]):
            rows.append({"lambda": lam, "orbital": n, "E (eV)": float(e), "parity": p,
                         "smallest overlap with previous step": st["min_overlap"]})
    # names of the final eigenvectors in parity_levels order
    w, v, _ = idt.parity_levels(blocks[-1], common)
    last = steps[-1]["vectors"]
    final = [names[int(np.argmax(np.abs(last.T @ v[:, i])))] for i in range(5)]
    return rows, final


def orbitals_for(m: dict, reading_name: str, names_from_1T: list | None = None) -> list:
    """The orbital matrices (columns a, b, c, ...) of both W of layer model `m` under a reading;
    W2's are the inversion image of W1's (the same coefficients)."""
    atom = pd_models.metal_atoms(m["eff"])[0]
    x = idt.reading(onsite_block(m["eff"]), m["atoms"], atom, reading_name,
                    names_from_1T if reading_name == "continuity from 1T" else None)
    return [np.real(x["orbitals"])] * len(pd_models.d_shells(m["eff"]))


def layer_models(material: str, settings: dict, basis: str, grid, e_low: float, width: float,
                 window=pd_models.PD_WINDOW, moments: bool = False, names=("1T", "relaxed d2", "experiment")) -> dict:
    """Checked layer models (layer_model) of the layers of layer_structures, from cached LCAO runs
    (`moments`: the runs that also hold the z matrices)."""
    structs = layer_structures(material, settings["profile"], settings["vacuum"])
    out = {}
    for name in names:
        at = structs[name]
        lc = dft_jobs.lcao(at, settings, f"{material}-{name.replace(' ', '-')}", basis=basis, moments=moments)
        out[name] = layer_model(lc, at, grid, e_low, width, window, name=name)
    return out


def path_models(material: str, settings: dict, basis: str, grid, e_low: float, width: float, lambdas,
                window=pd_models.PD_WINDOW) -> list:
    """[(lam, layer model)] along the straight path from the 1T layer (lam = 0) to the relaxed d2
    layer (lam = 1), each from a cached LCAO run with z matrices."""
    lambdas = sorted(float(x) for x in lambdas)
    if not lambdas or lambdas[0] != 0.0 or lambdas[-1] != 1.0:
        raise ValueError(f"path_lambdas={lambdas}: must start at 0 (1T) and end at 1 (relaxed d2)")
    structs = layer_structures(material, settings["profile"], settings["vacuum"])
    out = []
    for lam in lambdas:
        at = (structs["1T"] if lam == 0 else structs["relaxed d2"] if lam == 1 else
              idt.interpolate(structs["1T"], structs["relaxed d2"], lam))
        label = (f"{material}-1T" if lam == 0 else f"{material}-relaxed-d2" if lam == 1 else f"{material}-path-{lam:g}")
        lc = dft_jobs.lcao(at, settings, label, basis=basis, moments=True)
        out.append((lam, layer_model(lc, at, grid, e_low, width, window, name=f"path {lam:g}")))
    return out


def identity_robustness(material: str, settings: dict, basis: str, grid, width: float, e_lows, kpt_densities,
                        window=pd_models.PD_WINDOW) -> list:
    """b-c splitting (meV) of the relaxed d2 layer under every reading, for each downfolding window
    e_low (eV) and each LCAO k density (1/Angstrom; cached runs): the choices of ours. A model that
    fails its checks (helpers.models.pd.check_model) is not used: its rows say why, with no verdict."""
    rows = []
    for kd in sorted(set([settings["kpt_density"]] + list(kpt_densities))):
        s = dict(settings, kpt_density=kd)
        for e_low in e_lows:
            try:
                m = layer_models(material, s, basis, grid, e_low, width, window, names=("relaxed d2",))["relaxed d2"]
            except pd_models.ModelQualityError as err:        # a model that fails its checks is not used
                rows += [{"model": f"PWF, k {kd:g}/Å", "e_low (eV)": e_low, "reading": r, "|E_b - E_c| (meV)": np.nan,
                          "degenerate": None, "forced by symmetry": None, "note": str(err).split(": ", 1)[1]}
                         for r in idt.READINGS]
                continue
            for r, x in readings(m).items():
                rows.append({"model": f"PWF, k {kd:g}/Å", "e_low (eV)": e_low, "reading": r,
                             "|E_b - E_c| (meV)": 1000 * x["bc_splitting_eV"], "degenerate": x["degenerate"],
                             "forced by symmetry": x["forced by symmetry"], "note": "passes its checks"})
    return rows


# --- parameters and tables of the AFO page ------------------------------------------------------------
def check_parameters(U, J, U_scan, J_scan, e_low, e_low_scan, window_width, pd_window, path_lambdas,
                     main_reading, hf_grid) -> None:
    """Validate the AFO page's parameters before any work: ValueError naming the parameter."""
    def number(name, v, lo, hi):
        if not (isinstance(v, (int, float)) and lo <= v <= hi):
            raise ValueError(f"{name}={v!r}: must be a number in [{lo}, {hi}]")
    number("U", U, 0.1, 20)
    number("J", J, 0, U / 3)
    for u in U_scan:
        number("U_scan entry", u, 0.1, 20)
    for j in J_scan:
        number("J_scan entry", j, 0, 5)
    number("e_low", e_low, -5, 0)
    for e in e_low_scan:
        number("e_low_scan entry", e, -5, 0)
    number("window_width", window_width, 0.01, 3)
    if not (len(pd_window) == 2 and pd_window[0] < 0 < pd_window[1]):
        raise ValueError(f"pd_window={pd_window!r}: must be [low, high] eV with low < 0 < high")
    for lam in path_lambdas:
        number("path_lambdas entry", lam, 0, 1)
    if main_reading not in idt.READINGS:
        raise ValueError(f"main_reading={main_reading!r}: choose from {list(idt.READINGS)}")
    if hf_grid is not None and not (isinstance(hf_grid, (list, tuple)) and len(hf_grid) == 3
                                    and all(isinstance(n, int) and n >= 1 for n in hf_grid)):
        raise ValueError(f"hf_grid={hf_grid!r}: must be three positive integers")

#: Scans of the sub-eV pages per profile (a notebook parameter left at None takes these).
SCANS = {"smoke": {"U_scan": [3.0, 6.0], "J_scan": [0.0, 0.5], "e_low_scan": [-2.0, -1.5],
                   "path_lambdas": [0.0, 0.5, 1.0]},
         "paper": {"U_scan": [2.0, 3.0, 4.0, 6.0], "J_scan": [0.0, 0.3, 0.5, 0.8], "e_low_scan": [-2.0, -1.5, -1.0],
                   "path_lambdas": [0.0, 0.5, 1.0]}}


def scan_defaults(profile: str, **given) -> dict:
    """The scans of a profile (SCANS), with every parameter that is not None taken from `given`."""
    if profile not in SCANS:
        raise ValueError(f"profile={profile!r}: choose from {list(SCANS)}")
    return {k: (v if given.get(k) is None else list(given[k])) for k, v in SCANS[profile].items()}


def wannier90_rows(material: str, settings: dict, m: dict) -> dict:
    """Our projected Wannier functions against Wannier90's (projection-only and maximally localized)
    for layer model `m`'s structure (cached helpers.dft.jobs.wannier90 run): {title: comparison rows}."""
    res = dft_jobs.wannier90(m["atoms"], settings, f"{material}-relaxed-d2")
    lc = dft_jobs.lcao(m["atoms"], settings, f"{material}-relaxed-d2", basis="dzp")
    s = m["settings"]
    rows = w90_compare.construction_rows(res, lc, tuple(s["grid"]), s["e_low"], s["width"])
    return {f"ours against {tag}": r for tag, r in rows.items()}


def readings_needed(id_rows: list, dipole_rows: list, layer: str = "relaxed d2") -> tuple[list, str]:
    """Which reading the rest of the paper needs: per reading, whether b and c are degenerate (and
    whether symmetry forces it) and whether their out-of-plane dipoles have opposite signs (the FE
    claim needs that); and a sentence on the readings that give both."""
    rows = []
    for r in idt.READINGS:
        x = next(y for y in id_rows if y["layer"] == layer and y["reading"] == r)
        p = {y["orbital"]: y["p_z (e·Å)"] for y in dipole_rows if y["reading"] == r and y["W"] == 1}
        rows.append({"reading": r, "|E_b - E_c| (meV)": x["|E_b - E_c| (meV)"], "degenerate": x["degenerate"],
                     "forced by symmetry": x["forced by symmetry"], "p_z(b) (e·Å)": p["b"], "p_z(c) (e·Å)": p["c"],
                     "opposite p_z": bool(np.sign(p["b"]) != np.sign(p["c"]))})
    both = [x["reading"] for x in rows if x["degenerate"] and x["opposite p_z"] and not x["forced by symmetry"]]
    deg = [x["reading"] for x in rows if x["degenerate"]]
    opp = [x["reading"] for x in rows if x["opposite p_z"]]
    text = (f"Degenerate b, c under: {', '.join(deg) or 'no reading'}"
            + (" (forced by the site symmetry)" if deg and all(x["forced by symmetry"] for x in rows if x["degenerate"]) else "")
            + f". Opposite out-of-plane dipoles of b and c (what the FE claim needs) under: {', '.join(opp) or 'no reading'}. "
            + (f"Both hold, non-trivially, under: {', '.join(both)}." if both else
               f"No reading gives both. Where b and c are degenerate here ({', '.join(deg) or 'nowhere'}) they are exchanged by the "
               "site mirror, which keeps z; then p_z(b) = p_z(c) is forced, and the two claims cannot hold together in "
               "that reading (a consequence of the symmetry, not a computed finding). In every other reading b and c are "
               f"split by at least {min((x['|E_b - E_c| (meV)'] for x in rows if not x['degenerate']), default=np.nan):.0f} meV."))
    return rows, text


def wannier90_readings(material: str, settings: dict, m: dict) -> list:
    """The b-c splitting under every reading from Wannier90's projection-only functions of layer
    model `m`'s structure (the same downfolding as ours), in identity_robustness's row format with
    the construction named in place of the k density."""
    from ase import Atoms
    res = dft_jobs.wannier90(m["atoms"], settings, f"{material}-relaxed-d2")
    proj = w90_models.models(res)["proj"]
    s = m["settings"]
    eff, _, _ = pd_models.downfold_d(proj, tuple(s["grid"]), s["e_low"], s["width"])
    atoms = Atoms(res["symbols"], positions=res["positions_A"], cell=res["cell"], pbc=True)   # layer at z = 0
    rows = []
    for r, x in readings({"eff": eff, "atoms": atoms}).items():
        rows.append({"model": "Wannier90, projection-only", "e_low (eV)": s["e_low"], "reading": r,
                     "|E_b - E_c| (meV)": 1000 * x["bc_splitting_eV"], "degenerate": x["degenerate"],
                     "forced by symmetry": x["forced by symmetry"], "note": f"k grid {res['inputs']['kpts']}"})
    return rows

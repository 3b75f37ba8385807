"""The generalization rung: does the mechanism's condition hold in other layered compounds, and
what do their metal-d Wannier orbitals look like?

The paper's condition is a metal site without local parity (no inversion at the site), so that
an orbital can carry a d-p hybridization dipole; for an *out-of-plane* dipole the site group must
also leave z invariant. Here:

- `symmetry_rows`: space group and site group of every inequivalent metal of each structure of the
  registry (helpers.materials), whether the site holds inversion, which dipole directions it
  allows, and whether the metals are related by inversion (then a ferro-orbital state compensates
  and an antiferro-orbital one need not). These are statements of symmetry: a consistency check of
  the structures and of the code, not evidence for the paper's mechanism.
- `candidate_layer`: the layer of a candidate the DFT runs use (the computed 1T'-MoTe2 monolayer
  relaxed from the WTe2 prototype; the experimental ReSe2 monolayer).
- `site_rows`: per metal, the crystal-field levels of the effective metal-d orbitals and the
  out-of-plane dipole of each orbital doubly occupied, from the z matrices of the Bloch states
  (helpers.orbitals.moments), over the downfolding windows of the robustness check.
- `characteristics_rows`: the paper's five characteristics per material, what this compendium
  computes for each and what stays open.

Energies in eV, lengths in Angstrom, dipoles in e*Angstrom (microC/cm^2 where named).
"""
from __future__ import annotations

import numpy as np

from . import materials as mats
from . import structures as S

#: Tolerance (Angstrom) of the symmetry search: the experimental layers of the Td bulk are
#: centrosymmetric only to ~0.01 Angstrom (helpers.structures.monolayer_1Tprime).
SYMPREC = 0.02


# --- structures -----------------------------------------------------------------------------------

def relax_computed(material: str, settings: dict, force: bool = False) -> dict:
    """DFT relaxations of a registry material that has no experimental structure: the 1T' monolayer
    from its prototype (helpers.structures.prototype_1Tprime, in-plane cell relaxed) and, as the
    energy reference, the undistorted 1T layer (the AFE page's '1T' relaxation of that material).
    {'1Tprime': result, '1T': result}, cached (helpers.dft.relax)."""
    from . import afe, dft
    entry = mats.check(material)
    if entry["kind"] != "computed":
        raise ValueError(f"material={material!r} has an experimental structure; nothing to relax")
    start = S.prototype_1Tprime(material, vacuum=settings["vacuum"])
    out = {"1Tprime": dft.relax(start, settings, label=f"{material}-1Tprime", force=force)}
    ref = S.fictitious_1T(material, vacuum=settings["vacuum"])
    out["1T"] = dft.relax(ref, afe.layer_settings(settings, 0.0), label=f"{material}-d2-1T", force=force)
    return out


def candidate_layer(material: str, settings: dict) -> tuple:
    """(atoms, provenance) of the monolayer a candidate's DFT runs use: the computed 1T' layer
    (relax_computed) or one layer cut from the experimental bulk."""
    from . import dft
    entry = mats.check(material)
    if entry["kind"] == "computed":
        r = relax_computed(material, settings)["1Tprime"]
        return dft.atoms_from(r["final"]), f"computed: {entry['structure']} ({settings['profile']} profile)"
    if material == "WTe2":
        return S.monolayer_1Tprime("WTe2", settings["vacuum"]), f"experimental: {entry['structure']}"
    return S.cut_layers(S.registry_bulk(material), 1, settings["vacuum"]), f"experimental: {entry['structure']}"


#: The scorecard's consistency checks of the symmetry condition: label -> (structure of
#: symmetry_structures, whether it should meet the condition). The paper's two candidates meet it;
#: the 1T layer (inversion at W) and the 2H-MoS2 monolayer (-6m2 site) are the negative controls.
CONDITION_CHECKS = {"ReSe2 trilayer meets the condition": ("ReSe2 trilayer", True),
                    "1T'-MoTe2 monolayer meets the condition (a symmetry its relaxation kept from the WTe2 start)": ("MoTe2 1T' monolayer", True),
                    "1T WTe2 fails it (control)": ("WTe2 fictitious 1T layer", False),
                    "2H-MoS2 monolayer fails it (control)": ("MoS2 monolayer", False)}


def symmetry_structures(settings: dict, computed: bool = True) -> dict:
    """{name: (material, atoms, provenance)} of every structure of the symmetry test: the bulk and
    the layers (materials.MATERIALS[m]['layers']) of each registry material with a file, the
    computed layers (`computed`: needs their relaxations, cached), the Td prototype bulk of a
    computed material (symmetry only), and the fictitious 1T WTe2 layer (inversion at W: the
    negative control of the condition)."""
    vac = settings["vacuum"]
    out = {"WTe2 fictitious 1T layer": ("WTe2", S.fictitious_1T("WTe2", vacuum=vac),
                                        "model: W at the centre of its octahedron")}
    for name, e in mats.MATERIALS.items():
        if e["kind"] == "experimental":
            bulk = S.registry_bulk(name)
            out[f"{name} bulk"] = (name, bulk, f"experimental: {e['structure']}")
            for n in e["layers"]:
                at = S.slab(name, n, vac) if name == "WTe2" else S.cut_layers(bulk, n, vac)
                out[f"{name} {_nlayer(n)}"] = (name, at, f"experimental: {n} layer(s) of the bulk")
        else:
            proto = S.substituted(S.registry_bulk(e["prototype"]), {S.METAL[e["prototype"]]: e["metal"]})
            out[f"{name} Td bulk (prototype)"] = (name, proto, f"prototype: {e['prototype']} bulk with "
                                                  f"{e['metal']} on the metal sites (not relaxed)")
            if computed:
                at, prov = candidate_layer(name, settings)
                out[f"{name} 1T' monolayer"] = (name, at, prov)
    return out


def _nlayer(n: int) -> str:
    return {1: "monolayer", 2: "bilayer", 3: "trilayer"}.get(n, f"{n} layers")


# --- symmetry -------------------------------------------------------------------------------------

def inversion_relates_metals(atoms, symprec: float = SYMPREC) -> bool:
    """Whether the structure's space group holds an inversion (rotation part -1) that maps metals
    onto other metals (in a layer: the two sublattices of an antiferroelectric arrangement)."""
    import spglib
    metals = mats.metal_indices(atoms)
    ds = spglib.get_symmetry_dataset((np.array(atoms.cell), atoms.get_scaled_positions(), atoms.numbers),
                                     symprec=symprec)
    frac = atoms.get_scaled_positions()
    for rot, tr in zip(ds.rotations, ds.translations):
        if not np.allclose(rot, -np.eye(3)):
            continue
        for i in metals:
            img = rot @ frac[i] + tr
            for j in metals:
                d = img - frac[j]
                if j != i and np.linalg.norm((d - np.round(d)) @ np.array(atoms.cell)) < symprec:
                    return True
    return False


def site_condition(site: dict) -> dict:
    """The mechanism's conditions at one metal site (helpers.orbitals.identity.site_symmetry):
    local parity broken (no inversion at the site) and an out-of-plane dipole allowed for an orbital
    of a non-degenerate level (z invariant under the site group)."""
    no_inv = not site["inversion"]
    z_ok = "z" in site["dipole allowed along"]
    return {"no inversion at the metal": no_inv, "out-of-plane orbital dipole allowed": z_ok,
            "condition met": no_inv and z_ok}


def symmetry_rows(structs: dict, symprec: float = SYMPREC) -> list:
    """One row per structure and inequivalent metal site: space group, site group, its order, the d
    degeneracies it forces, the dipole directions it allows, the conditions (site_condition), and
    whether inversion relates the metals."""
    import spglib
    from .orbitals import identity as idt
    rows = []
    for name, (material, at, prov) in structs.items():
        ds = spglib.get_symmetry_dataset((np.array(at.cell), at.get_scaled_positions(), at.numbers),
                                         symprec=symprec)
        relates = inversion_relates_metals(at, symprec)
        seen = set()
        for k, i in enumerate(mats.metal_indices(at)):
            orbit = int(ds.equivalent_atoms[i])
            if orbit in seen:
                continue
            seen.add(orbit)
            site = idt.site_symmetry(at, i, symprec)
            n_equiv = int(np.sum(ds.equivalent_atoms == orbit))
            rows.append({"structure": name, "material": material, "provenance": prov,
                         "space group": site["space group"], "metal site": f"{at[i].symbol}{k + 1} (x{n_equiv})",
                         "site group": site["site symmetry"], "order": site["order"],
                         "d degeneracies forced": ", ".join(str(d) for d in site["d degeneracies forced"]),
                         "dipole allowed along": "".join(site["dipole allowed along"]) or "none",
                         **site_condition(site), "inversion relates metals": relates})
    return rows


def condition_summary(rows: list) -> list:
    """Per structure: whether every inequivalent metal site meets the condition (symmetry_rows)."""
    out = {}
    for r in rows:
        s = out.setdefault(r["structure"], {"structure": r["structure"], "material": r["material"],
                                            "space group": r["space group"], "sites": 0, "sites meeting it": 0,
                                            "inversion relates metals": r["inversion relates metals"]})
        s["sites"] += 1
        s["sites meeting it"] += int(r["condition met"])
    for s in out.values():
        s["condition met"] = s["sites meeting it"] == s["sites"]
    return list(out.values())


# --- metal-d orbitals of a candidate --------------------------------------------------------------

def layer_spacing(material: str) -> float:
    """Interlayer spacing (Angstrom) of the material's experimental bulk
    (helpers.structures.interlayer_spacing). A computed material takes its prototype's."""
    e = mats.check(material)
    return S.interlayer_spacing(S.registry_bulk(e["prototype"] if e["kind"] == "computed" else material))


def model_grid(atoms, profile: str) -> tuple:
    """k grid of the downfolding for a layer: the density of the AFO page's grid along the WTe2
    chain (helpers.orbital_order.HF_GRID[profile][0] points over the chain period a) on every
    in-plane axis, at least 2 points."""
    from . import orbital_order as oo
    per_A = oo.HF_GRID[profile][0] * float(np.linalg.norm(S.monolayer_1Tprime("WTe2").cell[0]))
    return tuple(max(2, int(round(per_A / np.linalg.norm(atoms.cell[i])))) for i in range(2)) + (1,)


def candidate_model(material: str, settings: dict, basis: str, e_low: float, width: float, window,
                    grid=None, lcao_kpt_density: float | None = None) -> dict:
    """The checked p-d model and effective metal-d model (helpers.orbitals.analysis.layer_model)
    of a candidate's monolayer (candidate_layer, always at the profile's settings), from a cached
    LCAO run with z matrices at the profile's k density or at `lcao_kpt_density` (1/Angstrom: only
    the LCAO run changes, never the structure); the WTe2 entry is the AFO page's relaxed d2 layer.
    Adds 'provenance' and 'material'."""
    from . import dft
    from .orbitals import analysis as an
    lcao_settings = settings if lcao_kpt_density is None else dict(settings, kpt_density=lcao_kpt_density)
    if material == "WTe2":
        at = an.layer_structures("WTe2", settings["profile"], settings["vacuum"])["relaxed d2"]
        prov, label = "computed: the AFE page's relaxed d2 layer", "WTe2-relaxed-d2"
    else:
        at, prov = candidate_layer(material, settings)
        label = f"{material}-monolayer"
    grid = tuple(grid or model_grid(at, settings["profile"]))
    lc = dft.lcao(at, lcao_settings, label, basis=basis, moments=True)
    m = an.layer_model(lc, at, grid, e_low, width, window, name=f"{material} monolayer")
    m.update(provenance=prov, material=material)
    return m


def site_levels(m: dict) -> list:
    """Per metal site of a layer model: (levels eV ascending, orbitals as columns, p_z e*Angstrom
    of each orbital doubly occupied relative to the nucleus), from its own on-site block and the z
    matrices (every site diagonalized separately: no site is assumed to be an image of another)."""
    from . import orbital_order as oo
    from .orbitals import moments as mom
    eff, pd, s = m["eff"], m["pd"], m["settings"]
    keep = np.concatenate(oo.d_shells(pd))
    Z = mom.effective_z(mom.z_model(m["lcao"], pd), pd, keep, s["grid"], s["e_low"], s["width"])
    shells, atoms = oo.d_shells(eff), oo.metal_atoms(eff)
    out = []
    for sh, a in zip(shells, atoms):
        h = np.real(eff.onsite()[np.ix_(sh, sh)])
        w, v = np.linalg.eigh(0.5 * (h + h.T))
        p = mom.orbital_dipoles_z(Z, eff, [sh], [a], [v])[0]
        out.append((w, v, np.asarray(p, float)))
    return out


def site_rows(m: dict, volume_A3: float, levels: list | None = None) -> list:
    """One row per metal site and crystal-field orbital (energy order, 1 = lowest): level (eV, from
    the site's mean), p_z (e*Angstrom) and its density over `volume_A3` (microC/cm^2)."""
    from .dipoles import dipole_density_uC_cm2
    rows = []
    for k, (w, v, p) in enumerate(levels or site_levels(m)):
        for i in range(len(w)):
            rows.append({"material": m["material"], "site": site_label(m["atoms"], k),
                         "orbital": i + 1, "level − mean (eV)": float(w[i] - w.mean()),
                         "p_z (e·Å)": float(p[i]),
                         "P_z (μC/cm²)": float(dipole_density_uC_cm2(p[i], volume_A3))})
    return rows


#: The two readings of the paper's b and c among a metal's three lowest (t2g-derived) orbitals, in
#: energy order (indices 0, 1, 2): the AFO page's main reading (b, c = the 2nd and 3rd), and the
#: two of the three closest in energy (the pair a degeneracy claim would point to).
PAIR_READINGS = ("energy order (2nd, 3rd)", "closest pair of the three lowest")


def pick_pair(w: np.ndarray, reading: str, n_low: int = 3) -> tuple:
    """Indices (i, j) of the b, c analogue among the `n_low` lowest levels `w` under `reading`."""
    if reading == PAIR_READINGS[0]:
        return 1, 2
    if reading == PAIR_READINGS[1]:
        pairs = [(i, j) for i in range(n_low) for j in range(i + 1, n_low)]
        return min(pairs, key=lambda ij: abs(w[ij[1]] - w[ij[0]]))
    raise ValueError(f"reading={reading!r}: choose from {list(PAIR_READINGS)}")


def site_label(atoms, k: int) -> str:
    """The 1-based label of the k-th metal (in metal_indices order), e.g. 'Re2'."""
    return f"{atoms[mats.metal_indices(atoms)[k]].symbol}{k + 1}"


def same_levels(a: tuple, b: tuple, atol: float = 5e-3) -> bool:
    """Whether two sites of site_levels have the same levels (to `atol` eV): inversion partners."""
    return bool(np.allclose(a[0], b[0], atol=atol))


def pair_rows(m: dict, n_low: int = 3, levels: list | None = None) -> list:
    """Per metal site and reading (PAIR_READINGS): the b, c analogue among its `n_low` lowest
    orbitals, their splitting (meV), their p_z (e*Angstrom) and |p_b - p_c|: the net out-of-plane
    dipole an antiferro-orbital state (b on one metal, c on its inversion partner) leaves per metal
    pair, while the ferro-orbital states compensate (what the paper's FE needs)."""
    rows = []
    for k, (w, v, p) in enumerate(levels or site_levels(m)):
        for reading in PAIR_READINGS:
            i, j = pick_pair(w, reading, n_low)
            rows.append({"material": m["material"], "site": site_label(m["atoms"], k),
                         "reading": reading, "pair": f"{i + 1}, {j + 1}",
                         "splitting (meV)": 1000 * float(w[j] - w[i]),
                         "p_z first (e·Å)": float(p[i]), "p_z second (e·Å)": float(p[j]),
                         "|p_b − p_c| (e·Å)": float(abs(p[i] - p[j])),
                         "t2g-derived spread (meV)": 1000 * float(w[n_low - 1] - w[0])})
    return rows


def noise_floor(m: dict, levels: list | None = None) -> float:
    """The numerical floor of the dipoles of a layer model (e*Angstrom): the largest mismatch
    |p_z(site) + p_z(partner)| between metals related by inversion (zero by symmetry; residues of the
    relaxation and the k grid), 0 where no partner exists. Partners are sites with the same levels."""
    if not inversion_relates_metals(m["atoms"]):
        return 0.0
    lv = levels or site_levels(m)
    return max([float(np.abs(lv[a][2] + lv[b][2]).max()) for a in range(len(lv)) for b in range(a + 1, len(lv))
                if same_levels(lv[a], lv[b])], default=0.0)


def site_orbits(levels: list) -> list:
    """Indices (into site_levels) of one metal of each set of equivalent metals: a metal with the
    same levels as an earlier one (same_levels: its inversion partner) is left out."""
    reps = []
    for k, lv in enumerate(levels):
        if not any(same_levels(lv, levels[j]) for j in reps):
            reps.append(k)
    return reps


def window_robustness(material: str, settings: dict, basis: str, e_lows, width: float, window,
                      kpt_densities=()) -> list:
    """For each inequivalent metal site (site_orbits: one row per site, 'site' names it) and each
    variant: site_rows' p_z of the three lowest orbitals and pair_rows, for each downfolding window
    e_low (eV) at the profile's k density, and at the profile's window for each other LCAO k density
    in `kpt_densities` (1/Angstrom; cached runs): the choices of ours the dipoles may be sensitive
    to. A model that fails its checks is reported, not used."""
    from . import orbital_order as oo
    e0 = e_lows[len(e_lows) // 2] if e_lows else -1.5
    variants = [(settings["kpt_density"], e) for e in e_lows]
    variants += [(kd, e0) for kd in kpt_densities if kd != settings["kpt_density"]]
    rows = []
    for kd, e_low in variants:
        base = {"material": material, "k density (1/Å)": kd, "e_low (eV)": e_low}
        try:
            m = candidate_model(material, settings, basis, e_low, width, window, lcao_kpt_density=kd)
        except oo.ModelQualityError as err:
            rows.append({**base, "site": "—", "note": str(err).split(": ", 1)[1]})
            continue
        levels = site_levels(m)
        floor = noise_floor(m, levels)
        pairs = pair_rows(m, levels=levels)
        for k in site_orbits(levels):
            site = site_label(m["atoms"], k)
            pr = {r["reading"]: r for r in pairs if r["site"] == site}
            p = levels[k][2]
            rows.append({**base, "site": site, "p_z of orbitals 1-3 (e·Å)": ", ".join(f"{x:+.3f}" for x in p[:3]),
                         **{f"|p_b − p_c|, {r}": pr[r]["|p_b − p_c| (e·Å)"] for r in PAIR_READINGS},
                         **{f"opposite signs, {r}": bool(pr[r]["p_z first (e·Å)"] * pr[r]["p_z second (e·Å)"] < 0)
                            for r in PAIR_READINGS},
                         "closest pair": pr[PAIR_READINGS[1]]["pair"], "noise floor (e·Å)": floor,
                         "note": "passes its checks"})
    return rows


def robustness_rows(materials_, settings: dict, basis: str, e_lows, width: float, window, kpt_densities=()) -> list:
    """window_robustness of WTe2 (windows only: its k grids are the AFO page's) and of each candidate
    in `materials_` (windows and the LCAO k densities): the rows the generalization page and the
    scorecard both judge, so that both use the same numerical floor."""
    return [r for m in ["WTe2"] + [x for x in materials_ if x != "WTe2"]
            for r in window_robustness(m, settings, basis, e_lows, width, window, kpt_densities if m != "WTe2" else ())]


# --- ordered orbital patterns of a two-metal candidate -------------------------------------------

def ordered_rows(material: str, settings: dict, basis: str, e_low: float, width: float, U: float = 3.0,
                 J: float = 0.5, parts=("primitive", "robustness"), U_low: float | None = None) -> list | None:
    """The AFO page's annealed ordered states (helpers.orbitals.ordered.page_results: d2 pattern
    starts a2a2, b2b2, c2c2, b2c2, c2b2 annealed from 10 eV down to U) on a candidate's layer, and
    their comparison at U (ordered.paper_comparison: E(b2b2) - E(a2a2), E(AFO) - E(FO) in meV per
    formula unit, the lowest state), one row per run (`parts`: the primitive cell with the Slater
    interaction at J, and the robustness variants). WTe2 reads the AFO page's own runs. None where
    the cell does not allow the two-site patterns (a cell with other than two metals, as ReSe2's
    four Re). `U_low` (eV, below U) adds, for a candidate, the primitive-cell run annealed further down to
    U_low and compared there (the side of a smaller U than the paper's W-5d value; a 4d shell's U is
    usually at least as large, which the annealing from 10 eV passes through)."""
    from . import dft, valence
    from .orbitals import ordered
    profile = settings["profile"]
    if material == "WTe2":
        page = ordered.page_results("WTe2", profile, J=J, e_low=e_low, window_width=width, parts=parts, verbose=False)
    else:
        at, _ = candidate_layer(material, settings)
        if len(mats.metal_indices(at)) != 2:
            return None
        lc = dft.lcao(at, settings, f"{material}-monolayer", basis=basis, moments=True)
        models = valence.layer_models(lc, ordered.SETTINGS[profile]["grids"][(1, 1, 1)], e_low, width)
        page = ordered.page_results(material, profile, J=J, e_low=e_low, window_width=width, parts=parts,
                                    verbose=False, models=models, label=f"{material}-monolayer")
    runs = [(name, res, n_fu, U) for name, (res, n_fu) in page["runs"].items()]
    if U_low is not None and material != "WTe2":
        if not (isinstance(U_low, (int, float)) and 0 < U_low < U):
            raise ValueError(f"U_low={U_low!r}: must be an interaction in (0, U) eV")
        st = ordered.SETTINGS[profile]
        grid_u = sorted(set(st["U_grid"]) | set(valence.u_grid(U, U_low, 0.5)), reverse=True)
        res = ordered.anneal_patterns(f"{material}-monolayer", profile, models, "effective",
                                      ordered.pattern_starts(models, models["local"]), grid_u,
                                      st["grids"][(1, 1, 1)], st["width"], "slater", J, "FLL", models["local"])
        runs.append((f"primitive, effective, slater, J = {J:g} eV, FLL, down to {U_low:g} eV", res,
                     len(models["effective"][1]), U_low))
    rows = []
    for name, res, n_fu, at_U in runs:
        c = ordered.paper_comparison(ordered.pattern_rows(res, n_fu), at_U, U_grid=res["U_grid"])
        rows.append({"material": material, "run": name, "result": res, **c})
    return rows


# --- the paper's five characteristics --------------------------------------------------------------

CHARACTERISTICS = ("1) no parity lowering of the lattice at the transition", "2) high ordering temperature",
                   "3) small dipolar order parameter", "4) hysteresis under switching",
                   "5) fast, low-energy switching")


def afo_dipole_range(robust: list, material: str) -> tuple | None:
    """(min, max) of |p_b - p_c| (e*Angstrom) over every inequivalent metal site and variant of
    window_robustness (windows, LCAO k densities) and both pair readings for `material`; None if it
    has no such row."""
    vals = [float(r[f"|p_b − p_c|, {reading}"]) for r in robust if r["material"] == material
            for reading in PAIR_READINGS if r.get(f"|p_b − p_c|, {reading}") is not None]
    return (min(vals), max(vals)) if vals else None


def _span(lo: float, hi: float, fmt: str) -> str:
    """'x' if lo and hi agree to the format's precision, else 'x–y'."""
    a, b = format(lo, fmt), format(hi, fmt)
    return a if a == b else f"{a}–{b}"


def control_dipole(settings: dict, basis: str, e_low: float, width: float, window) -> float:
    """Largest |p_z| (e*Angstrom) of any effective d orbital of the fictitious 1T WTe2 layer (the AFO
    page's cached LCAO run with z matrices), where inversion at W forces zero: the pipeline's own
    negative control."""
    from .orbitals import analysis as an
    at = an.layer_structures("WTe2", settings["profile"], settings["vacuum"])["1T"]
    m = an.layer_models("WTe2", settings, basis, model_grid(at, settings["profile"]), e_low, width, window,
                        moments=True, names=("1T",))["1T"]
    return float(max(np.abs(p).max() for _, _, p in site_levels(m)))


def characteristics_rows(material: str, summary: list, p_afo_eA, volume_fu_A3: float,
                         field_V_per_nm: float, energy_scale: dict | None = None, wte2=None) -> list:
    """The paper's five characteristics for `material`: what the computation here shows (from the
    condition summary of its structures, the net dipole of an AFO state per metal pair `p_afo_eA`
    (e*Angstrom, one value or the (min, max) over the variants, afo_dipole_range; spread over two
    formula-unit volumes of `volume_fu_A3` Angstrom^3) and, where computed, an energy scale {'name',
    'meV'}); what the experiments show as the paper cites them (helpers.reference entry
    'generalization_experiments': qualitative, and mostly the paper's own summary); what stays open.
    The dipole is set beside BaTiO3's for scale and beside WTe2's computed the same way (`wte2`:
    (p_afo_eA, volume_fu_A3) of WTe2), the like-for-like comparison; no "small" verdict is drawn,
    since the normalization is ours (the FE page). Statements that symmetry decides, or that the
    start of a relaxation carries over, are marked as consistency checks."""
    from ase.units import kB

    from . import reference
    from .dipoles import dipole_density_uC_cm2
    exp = reference.get("generalization_experiments").get(material, {})
    bto = reference.get("BaTiO3_spontaneous_polarization_uC_per_cm2")["value"]
    tc = reference.get("ferroelectric_Tc_K")["value"]
    cond = [s for s in summary if s["material"] == material]
    met = [s["structure"] for s in cond if s["condition met"]]

    def bounds(p) -> tuple:
        return (float(p), float(p)) if np.isscalar(p) else (float(min(p)), float(max(p)))

    def density(p, vol) -> tuple:
        return tuple(float(dipole_density_uC_cm2(x, 2 * vol)) for x in bounds(p))

    dipole = "not computed"
    if p_afo_eA is not None:
        lo, hi = bounds(p_afo_eA)
        P = density(p_afo_eA, volume_fu_A3)
        dipole = (f"net dipole of an AFO state |p_b − p_c| = {_span(lo, hi, '.3f')} e·Å per metal pair, "
                  f"{_span(*P, '.2f')} μC/cm² over two formula-unit volumes ({_span(P[0] / bto, P[1] / bto, '.2f')} "
                  f"of BaTiO3's {bto} μC/cm²)")
        if wte2 is not None and wte2[0] is not None:
            Pw = density(*wte2)
            rel = ("ranges overlap: comparable to WTe2's" if P[0] <= Pw[1] and Pw[0] <= P[1]
                   else "larger than WTe2's in every variant" if P[0] > Pw[1] else "smaller than WTe2's in every variant")
            dipole += f"; WTe2 in the same pipeline: {_span(*Pw, '.2f')} μC/cm² ({rel})"
        dipole += ". Whether it is 'small' is not decided: the normalization is ours (FE page)"
    prototype = mats.check(material)["kind"] == "computed"      # its structures start from the WTe2 prototype
    ours = {
        CHARACTERISTICS[0]: ("consistency check: the metal site already lacks inversion in " + ", ".join(met)
                             + " (site symmetry" + ("; for a structure built or relaxed from the WTe2 prototype, "
                                                    "inherited from that start" if prototype else "")
                             + "); a lattice change at the ordering transition is not computed"
                             if met else "the metal site keeps inversion or a horizontal mirror in every structure tested"),
        CHARACTERISTICS[1]: (f"{energy_scale['name']}: {energy_scale['meV']:.0f} meV (k_B T at {tc} K: "
                             f"{1000 * kB * tc:.0f} meV)" if energy_scale else "not computed here"),
        CHARACTERISTICS[2]: dipole,
        CHARACTERISTICS[3]: ("consistency check: inversion relates the metals, so the AFO state and its partner are "
                             "distinct discrete states; hysteresis itself is not computed"
                             if any(s["inversion relates metals"] for s in cond) else "no discrete partner found"),
        CHARACTERISTICS[4]: ("not computed" if p_afo_eA is None else
                             "not computed (switching barrier and speed); for orientation, the field splitting of the "
                             f"AFO partners 2|p_b − p_c|E = {_span(*(2 * x * field_V_per_nm / 10 * 1000 for x in bounds(p_afo_eA)), '.2f')} "
                             f"meV per metal pair at a chosen {field_V_per_nm:g} V/nm follows from characteristic 3"),
    }
    key = lambda c: c.split(")")[0]
    return [{"material": material, "characteristic": c, "computed here": ours[c],
             "experiment, as the paper cites it": exp.get(key(c), exp.get("all", "no citable value in our reference file")),
             "open": {CHARACTERISTICS[0]: "the lattice at the transition; orbital order seen directly (the paper suggests electron microscopy or EELS)",
                      CHARACTERISTICS[1]: "the ordered states' energies" + (" over U" if energy_scale else ""),
                      CHARACTERISTICS[2]: "a normalization that can be matched to the paper's (FE page); the 2D density of the monolayer",
                      CHARACTERISTICS[3]: "domain energetics", CHARACTERISTICS[4]: "dynamics"}.get(c, "")}
            for c in CHARACTERISTICS]


def dipole_threshold(robust: list, control_eA: float, min_dipole_eA: float) -> float:
    """The |p_b - p_c| an AFO state must reach to count (e*Angstrom): three times the numerical floor
    (the largest inversion-partner mismatch over every variant, and the largest |p_z| of the
    inversion-symmetric 1T control, zero by symmetry), and at least `min_dipole_eA`."""
    floor = max([control_eA] + [r.get("noise floor (e·Å)", 0.0) for r in robust])
    return max(min_dipole_eA, 3 * floor)


def generalization_verdict(summary: list, robust: list, threshold_eA: float, materials_=("MoTe2", "ReSe2")) -> dict:
    """The scorecard's generalization row under its narrow reading: in each candidate the b, c
    analogue of its metals carries a net AFO dipole |p_b - p_c| >= `threshold_eA` e*Angstrom, at
    every inequivalent metal site, in every variant of window_robustness (windows, LCAO k densities) and under both pair readings
    (PAIR_READINGS); per material a robust_verdict over those variants, and together 'reproduced'
    only if every candidate is, 'not reproduced' if any is not, else 'undetermined'. At a site of
    symmetry m or 1 a non-zero p_b - p_c is generic, so a pass is close to a consequence of the
    symmetry: the scorecard shows it as a consistency check, not as evidence for the mechanism. The symmetry
    condition (site without inversion, z allowed) and the negative controls are consistency checks,
    reported apart. Whether an orbital order forms is not part of this reading."""
    from .orbitals.analysis import robust_verdict
    by = {s["structure"]: s for s in summary}
    checks = {label: (None if name not in by else by[name]["condition met"] == expected)
              for label, (name, expected) in CONDITION_CHECKS.items()}
    per = {}
    for mat in materials_:
        outcomes = {}
        for r in robust:
            if r["material"] != mat:
                continue
            for reading in PAIR_READINGS:
                v = r.get(f"|p_b − p_c|, {reading}")
                name = f"{r.get('site', 'site 1')}, k {r['k density (1/Å)']:g}/Å, e_low {r['e_low (eV)']:g} eV, {reading}"
                outcomes[name] = None if v is None else bool(v >= threshold_eA)
        per[mat] = robust_verdict(outcomes)
    verdicts = [v["verdict"] for v in per.values()]
    # the claim is that every candidate satisfies the condition: one that fails makes it fail
    ok = (None if not verdicts or "not computed here" in verdicts else False if "not reproduced" in verdicts
          else True if set(verdicts) == {"reproduced"} else "undetermined")
    return {"consistency checks": checks, "per material": per, "threshold (e·Å)": threshold_eA, "ok": ok}


# --- figures --------------------------------------------------------------------------------------

def plot_site_levels(axes, rows: list, vmax: float | None = None):
    """One panel per material: the crystal-field levels of each metal site (site_rows) as short
    lines, coloured by the orbital's p_z (e*Angstrom, blue negative, red positive). Returns the
    colour mapping (for a colour bar)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize
    mats_ = list(dict.fromkeys(r["material"] for r in rows))
    vmax = vmax or max(abs(r["p_z (e·Å)"]) for r in rows) or 1.0
    sm = plt.cm.ScalarMappable(norm=Normalize(-vmax, vmax), cmap="RdBu_r")
    for ax, mat in zip(np.atleast_1d(axes), mats_):
        mine = [r for r in rows if r["material"] == mat]
        sites = list(dict.fromkeys(r["site"] for r in mine))
        for r in mine:
            x = sites.index(r["site"])
            ax.hlines(r["level − mean (eV)"], x - 0.3, x + 0.3, color=sm.to_rgba(r["p_z (e·Å)"]), lw=3)
        ax.set_xticks(range(len(sites)), sites)
        ax.set_xlim(-0.6, len(sites) - 0.4)
        ax.set_title(mat)
        ax.grid(axis="y", alpha=0.3)
    return sm


# --- the page's parameters, summaries and findings ---------------------------------------------

def check_parameters(materials_, e_low, e_low_scan, window_width, pd_window, field_V_per_nm, min_dipole_eA,
                     U: float = 3.0, U_low: float | None = None) -> None:
    """Validate the generalization page's parameters before any work: ValueError naming the
    parameter and what is allowed."""
    if not (isinstance(materials_, (list, tuple)) and materials_):
        raise ValueError(f"materials={materials_!r}: must be a non-empty list of {sorted(mats.MATERIALS)}")
    for m in materials_:
        mats.check(m)
        if m == "WTe2":
            raise ValueError("materials: WTe2 is the reference and always shown; list the other candidates")
        if mats.MATERIALS[m]["role"].startswith("negative control"):
            raise ValueError(f"materials: {m} is a negative control (symmetry test only); choose candidates")
    for name, v in (("e_low", e_low), *((f"e_low_scan[{i}]", x) for i, x in enumerate(e_low_scan))):
        if not (isinstance(v, (int, float)) and -4.0 <= v <= -0.25):
            raise ValueError(f"{name}={v!r}: must be a window edge in [-4, -0.25] eV below E_F")
    if not (isinstance(window_width, (int, float)) and 0.05 <= window_width <= 2.0):
        raise ValueError(f"window_width={window_width!r}: must be a width in [0.05, 2] eV")
    if not (len(pd_window) == 2 and pd_window[0] < 0 < pd_window[1]):
        raise ValueError(f"pd_window={pd_window!r}: must be [low, high] eV with low < 0 < high")
    if not (isinstance(field_V_per_nm, (int, float)) and 0 < field_V_per_nm <= 10):
        raise ValueError(f"field_V_per_nm={field_V_per_nm!r}: must be a field in (0, 10] V/nm")
    if U_low is not None and not (isinstance(U_low, (int, float)) and 0 < U_low < U):
        raise ValueError(f"U_low={U_low!r}: must be None or an interaction in (0, U = {U}) eV")
    if not (isinstance(min_dipole_eA, (int, float)) and 0 < min_dipole_eA < 1):
        raise ValueError(f"min_dipole_eA={min_dipole_eA!r}: must be a dipole in (0, 1) e*Angstrom")


def computed_rows(material: str, settings: dict) -> list:
    """The computed structure of `material` (relax_computed) beside the WTe2 layers: cell,
    metal-metal distances, off-centring (Angstrom), the distortion energy E(1T') - E(1T) per formula
    unit (eV) and whether each relaxation converged."""
    from . import afe, dft
    r = relax_computed(material, settings)
    wte2 = afe.relax_layer("WTe2", "d2", settings)
    rows = []
    for name, res, ref in ((f"{material} 1T' (computed)", r["1Tprime"], r["1T"]),
                           ("WTe2 relaxed d2 (AFE page)", wte2["distorted"], wte2["1T"])):
        s = afe.structure_summary(dft.atoms_from(res["final"]))
        n_fu = len(res["final"]["symbols"]) // 3
        rows.append({"layer": name, "a (Å)": s["a_A"], "b (Å)": s["b_A"], "M–M short (Å)": s["MM_short_A"],
                     "M–M long (Å)": s["MM_long_A"], "off-centring (Å)": s["offcentre_A"],
                     "E(1T′) − E(1T) (meV/f.u.)": 1000 * (res["energy_eV"] - ref["energy_eV"]) / n_fu,
                     "converged": bool(res.get("converged", True)) and bool(ref.get("converged", True)),
                     "steps": res.get("steps")})
    s = afe.structure_summary(S.monolayer_1Tprime("WTe2", settings["vacuum"]))
    rows.append({"layer": "WTe2 experiment (Mar 1992)", "a (Å)": s["a_A"], "b (Å)": s["b_A"],
                 "M–M short (Å)": s["MM_short_A"], "M–M long (Å)": s["MM_long_A"],
                 "off-centring (Å)": s["offcentre_A"]})
    return rows


def ordered_display_rows(ordered_runs: dict) -> list:
    """The columns of ordered_rows a reader needs, for every material whose cell allows them."""
    keep = ("E(b2b2) − E(a2a2) (meV/f.u.)", "E(c2c2) − E(a2a2) (meV/f.u.)", "E(AFO) − E(FO) (meV/f.u.)",
            "lowest state", "lowest state's pattern now", "lowest state n(a, b, c) of W1", "lowest state |m| max (μB)",
            "lowest state b/c polarized")
    return [{"material": r["material"], "run": r["run"], **{k: r[k] for k in keep}}
            for rows in ordered_runs.values() if rows for r in rows]


def findings(summary: list, robust: list, verdict: dict, materials_: list, control_eA: float,
             ordered_runs: dict | None = None, U: float = 3.0) -> str:
    """Markdown summary of the generalization page, generated from its tables."""
    by = {s["structure"]: s for s in summary}
    met = [k for k, s in by.items() if s["condition met"]]
    fail = [k for k, s in by.items() if not s["condition met"]]
    lines = [f"- **Symmetry (consistency check).** The metal sites meet the condition (no inversion, an "
             f"out-of-plane orbital dipole allowed) in {', '.join(met)}; not in {', '.join(fail)}. "
             "In a site of symmetry m or 1 a non-zero p_z is generic, so this part cannot tell the mechanism apart."]
    thr = verdict["threshold (e·Å)"]
    lines.append(f"- **Floor.** The inversion-symmetric 1T control gives |p_z| ≤ {control_eA:.1e} e·Å; with the "
                 f"inversion-partner mismatches of every variant, an AFO dipole counts from {thr:.3f} e·Å.")
    noted = set()
    for mat, site in dict.fromkeys((r["material"], r.get("site")) for r in robust if "closest pair" in r):
        if mat not in ["WTe2"] + list(materials_):
            continue
        rob = [r for r in robust if r["material"] == mat and r.get("site") == site and "closest pair" in r]
        parts, signs = [], []
        first_site = mat not in noted
        noted.add(mat)
        for reading in PAIR_READINGS:
            v = [r[f"|p_b − p_c|, {reading}"] for r in rob]
            parts.append(f"{reading}: {min(v):.3f}–{max(v):.3f} e·Å")
            n_opp = sum(r[f"opposite signs, {reading}"] for r in rob)
            signs.append(f"{reading}: opposite in {n_opp} of {len(rob)}"
                         + (" (undetermined)" if 0 < n_opp < len(rob) else ""))
        pairs = sorted({r["closest pair"] for r in rob})
        note = {"ReSe2": " The monolayer stands in for the trilayer the paper names (site group 1 in both); whether an "
                         "orbital order forms in ReSe2 is not computed (its four Re do not fit the two-site patterns).",
                "MoTe2": " The layer is computed (PBE from the WTe2 prototype), not experimental."}.get(mat, "") if first_site else ""
        lines.append(f"- **{mat}, {site}.** Net AFO dipole |p_b − p_c| over {len(rob)} variants (windows; "
                     f"k densities for the candidates): {'; '.join(parts)}. The closest pair of the three lowest orbitals is "
                     f"{' or '.join(pairs)} across the variants. Signs of p_b and p_c: {'; '.join(signs)}.{note}")
    per = verdict["per material"]
    lines.append("- **Verdict (narrow reading: the candidates' orbitals carry the dipoles the mechanism needs).** "
                 + "; ".join(f"{m}: {v['verdict']} ({v['range']})" for m, v in per.items())
                 + ". At a site of symmetry m or 1 a non-zero p_b − p_c is generic, so this pass is close to a "
                 "consequence of the symmetry, not evidence that the mechanism operates; it assumes full b/c "
                 "polarization and does not test whether an orbital order forms (every inequivalent metal site counts).")
    for mat, rows in (ordered_runs or {}).items():
        if mat == "WTe2":
            continue
        if not rows:
            lines.append(f"- **Ordered states of {mat}:** not computed (the cell does not fit the two-site patterns).")
            continue
        now = "lowest state's pattern now"
        low = [f"{r['run'].replace(', FLL', '')}: {r['lowest state'] or 'none'}"
               + (f" (now {r[now]}, b/c polarized: {r['lowest state b/c polarized']})" if r["lowest state"] else "")
               for r in rows]
        afo = [r["E(AFO) − E(FO) (meV/f.u.)"] for r in rows if np.isfinite(r["E(AFO) − E(FO) (meV/f.u.)"])]
        lines.append(f"- **Ordered states of {mat}** (mean field at U = {U:g} eV, the paper's value for W-5d, and in "
                     "the run annealed further down, at its lowest U): lowest state per run: " + "; ".join(low)
                     + ". E(AFO) − E(FO) "
                     + (f"ranges over {min(afo):.0f} to {max(afo):.0f} meV/f.u. where both survive." if afo else
                        "is not determined in any run (AFO and FO do not both survive)."))
    return "\n".join(lines)


def ordering_scale(rows: list | None, U: float) -> dict | None:
    """The energy scale of orbital order from ordered_rows (the first run: the primitive cell,
    main interaction): |E(AFO) - E(FO)| at U in meV per formula unit where both survive, else
    |lowest b/c pattern - E(a2a2)|; None where neither is computed."""
    if not rows:
        return None
    r = rows[0]
    for key, name in (("E(AFO) − E(FO) (meV/f.u.)", "|E(AFO) − E(FO)|"),
                      ("lowest b/c pattern − E(a2a2) (meV/f.u.)", "|E(b/c polarized) − E(a2a2)|")):
        v = r.get(key)
        if v is not None and np.isfinite(v):
            return {"name": f"{name} at U = {U:g} eV (mean field, per f.u.)", "meV": abs(float(v))}
    return None

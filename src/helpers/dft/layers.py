"""The layers every rung starts from: the 1T, 1T' and W3-ordered WTe2 layers relaxed by PBE (charged d counts
in a jellium background), the candidate layers of ReSe2 and MoTe2, and their interlayer spacing (Angstrom).
"""
from __future__ import annotations

from ase import Atoms

from . import jobs as dft_jobs
from . import materials as mats
from . import process as dft_process
from . import structures as S
from ..store import params
from ..store.params import check_choice
from .materials import MATERIALS
from .structures import EXPERIMENTAL, METAL, experimental_bulk, fictitious_1T, interlayer_spacing, rattle


#: Extra electrons per metal atom relative to the neutral layer, for each d count.
EXTRA_ELECTRONS = {"d2": 0, "d3": 1}


def start_structures(material: str, vacuum: float, rattle_amplitude: float, seed: int) -> dict:
    """The undistorted 1T start and its rattled copy (Angstrom)."""
    sym = fictitious_1T(material, vacuum=vacuum)
    return {"1T": sym, "rattled": rattle(sym, rattle_amplitude, seed)}


def cell_charge(atoms: Atoms, material: str, dcount: str) -> float:
    """Net cell charge (e) that sets the metal d count `dcount`."""
    check_choice("dcount", dcount, EXTRA_ELECTRONS)
    n_metal = atoms.get_chemical_symbols().count(METAL[material])
    return -float(EXTRA_ELECTRONS[dcount] * n_metal)


def relax_layer(material: str, dcount: str, settings: dict, rattle_amplitude: float = 0.05,
                seed: int = 1, force: bool = False) -> dict:
    """Relaxations of the 1T layer at d count `dcount`: {'1T': result, 'distorted': result}.

    Each result is the cached output of helpers.dft.jobs.relax (energy_eV, final structure, ...).
    A material without an experimental structure (helpers.dft.materials, kind 'computed': 1T'-MoTe2)
    has its neutral distorted layer relaxed once, by the generalization page from the 1T'
    prototype (helpers.dft.layers.relax_computed): at d2 that relaxation is reused here (one
    physical calculation, one cache entry), its `start` saying where it started.
    """
    starts = start_structures(material, settings["vacuum"], rattle_amplitude, seed)
    charge = cell_charge(starts["1T"], material, dcount)
    out = {}
    for name, start in (("1T", starts["1T"]), ("distorted", starts["rattled"])):
        if name == "distorted" and dcount == "d2" and _computed(material):
            out[name] = dict(relax_computed(material, settings, force=force)["1Tprime"],
                             start="the 1T′ prototype (the WTe2 layer with the metal substituted)")
            continue
        out[name] = dft_jobs.relax(start, layer_settings(settings, charge), label=f"{material}-{dcount}-{name}",
                                   charge=charge, force=force)
    return out


def _computed(material: str) -> bool:
    """Whether `material`'s distorted layer is computed by the generalization page."""
    return MATERIALS.get(material, {}).get("kind") == "computed"


def layer_settings(settings: dict, charge: float) -> dict:
    """The settings of a layer relaxation: a charged cell keeps its in-plane lattice fixed.

    GPAW neutralizes a charged cell with a uniform background that also fills the vacuum, so the
    energy and stress of a charged slab as functions of the in-plane area are unphysical (in a
    test the d3 layer expanded without bound, its energy falling). Charged layers therefore relax
    their atoms only, in the 1T cell whose area is the experimental one.
    """
    return dict(settings, relax_cell=bool(settings["relax_cell"]) and charge == 0)


#: Arrangements of the W3+ moments: initial moment (muB) of each metal, in cell order.
W3_ORDERS = {"FM": (3.0, 3.0), "AFM": (3.0, -3.0)}


#: How far (Angstrom) the compensating jellium slab of a charged layer reaches beyond its outer
#: chalcogen planes: about the covalent radius of Te, so that the slab covers the layer's electrons.
#: With the slab ending at the Te nuclei the extra electrons spill beyond it and the Te planes feel
#: 7 eV/A outward (smoke test); with 1.4 A the forces are those of a uniform background.
JELLIUM_PADDING_A = 1.4


def w3_job_parts(atoms: Atoms, material: str, order: str, U: float,
                 padding: float = JELLIUM_PADDING_A) -> dict:
    """The DFT+U, spin and background settings of the W3+ (t2g3) layer: one extra electron per
    metal, compensated by a positive jellium slab spanning the layer (from `padding` Angstrom below
    its lowest to `padding` above its highest chalcogen plane, so no charge sits in the vacuum),
    Dudarev U_eff = `U` eV on the metal d shell, initial moments of 3 muB per metal arranged as
    `order`, and the dipole layer."""
    check_choice("order", order, W3_ORDERS)
    symbols = atoms.get_chemical_symbols()
    metal = METAL[material]
    z_x = atoms.positions[[i for i, s in enumerate(symbols) if s != metal], 2]
    moments = iter(W3_ORDERS[order] * len(symbols))
    magmoms = [next(moments) if s == metal else 0.0 for s in symbols]
    return {"charge": 0.0, "magmoms": magmoms, "hubbard_U": {metal: float(U)},
            "jellium": {"charge": float(symbols.count(metal)), "z1": float(z_x.min() - padding),
                        "z2": float(z_x.max() + padding)},
            "dipole_correction": True}


#: Settings of the W3+ (t2g3 DFT+U) relaxations that differ from the profile's: spin-polarized
#: plane-wave DFT+U steps cost about four times a d2 step, so these run on a coarser k grid
#: (3 per 1/Angstrom; the d2 distortion energy moves by 6 meV/f.u. between 3 and 5) and to
#: 0.05 eV/Angstrom; a profile coarser than this (smoke) keeps its own.
W3_SETTINGS = {"kpt_density": 3.0, "fmax": 0.05}


def w3_settings(settings: dict) -> dict:
    """The profile's settings with W3_SETTINGS where those are finer, at the fixed 1T cell."""
    out = dict(settings, relax_cell=False)
    out["kpt_density"] = min(settings["kpt_density"], W3_SETTINGS["kpt_density"])
    out["fmax"] = max(settings["fmax"], W3_SETTINGS["fmax"])
    return out


def relax_w3_layer(material: str, settings: dict, order: str = "FM", U: float = 3.0,
                   rattle_amplitude: float = 0.05, seed: int = 1, reference: bool = True,
                   force: bool = False) -> dict:
    """The paper's W3+ layer made as a stable t2g3 ion: spin-polarized DFT+U (see `w3_job_parts`),
    relaxed at the fixed 1T cell (settings: `w3_settings`) from the rattled start used for d2 and,
    with `reference`, from the exact 1T positions. Returns {'distorted': result, '1T': result}."""
    starts = start_structures(material, settings["vacuum"], rattle_amplitude, seed)
    fixed = w3_settings(settings)
    out = {}
    todo = (("distorted", starts["rattled"]),) + ((("1T", starts["1T"]),) if reference else ())
    for name, start in todo:
        parts = w3_job_parts(starts["1T"], material, order, U)
        out[name] = dft_jobs.relax(start, fixed, label=f"{material}-d3-t2g3-{order}-U{U:g}-{name}", **parts,
                                   force=force)
    return out


def layer_spacing(material: str) -> float:
    """Interlayer spacing of the experimental bulk (c / number of layers per cell), Angstrom.
    A material without an experimental structure file (MoTe2) takes the spacing of Td-WTe2."""
    return interlayer_spacing(experimental_bulk(material if material in EXPERIMENTAL else "WTe2"))


# --- structures -----------------------------------------------------------------------------------
def relax_computed(material: str, settings: dict, force: bool = False) -> dict:
    """DFT relaxations of a registry material that has no experimental structure: the 1T' monolayer
    from its prototype (helpers.dft.structures.prototype_1Tprime, in-plane cell relaxed) and, as the
    energy reference, the undistorted 1T layer (the AFE page's '1T' relaxation of that material).
    {'1Tprime': result, '1T': result}, cached (helpers.dft.jobs.relax)."""
    entry = mats.check(material)
    if entry["kind"] != "computed":
        raise ValueError(f"material={material!r} has an experimental structure; nothing to relax")
    start = S.prototype_1Tprime(material, vacuum=settings["vacuum"])
    out = {"1Tprime": dft_jobs.relax(start, settings, label=f"{material}-1Tprime", force=force)}
    ref = S.fictitious_1T(material, vacuum=settings["vacuum"])
    out["1T"] = dft_jobs.relax(ref, layer_settings(settings, 0.0), label=f"{material}-d2-1T", force=force)
    return out


def candidate_layer(material: str, settings: dict) -> tuple:
    """(atoms, provenance) of the monolayer a candidate's DFT runs use: the computed 1T' layer
    (relax_computed) or one layer cut from the experimental bulk."""
    entry = mats.check(material)
    if entry["kind"] == "computed":
        r = relax_computed(material, settings)["1Tprime"]
        return dft_process.atoms_from(r["final"]), f"computed: {entry['structure']} ({settings['profile']} profile)"
    if material == "WTe2":
        return S.monolayer_1Tprime("WTe2", settings["vacuum"]), f"experimental: {entry['structure']}"
    return S.cut_layers(S.registry_bulk(material), 1, settings["vacuum"]), f"experimental: {entry['structure']}"


# --- the layers of the pages ----------------------------------------------------------------------
def layer_structures(material: str, profile: str, vacuum: float) -> dict:
    """The layers the sub-eV pages study: the fictitious 1T and relaxed d2 layers of the AFE page
    (cached relaxations) and the experimental layer."""
    lattice = relax_layer(material, "d2", params.settings(profile))
    return {"1T": dft_process.atoms_from(lattice["1T"]["final"]),
            "relaxed d2": dft_process.atoms_from(lattice["distorted"]["final"]),
            "experiment": S.monolayer_1Tprime(material, vacuum=vacuum)}

"""The materials of the compendium: one registry entry each.

An entry names the metal and the chalcogen, the nominal d count of the metal, and where the
structure comes from: an experimental file in data/structures (its citation in the file's
header), or a prototype that a DFT relaxation turns into a computed structure (labelled as
computed everywhere). To run the generalization page on another layered compound, add its
structure file to data/structures and one entry here; nothing else is needed.

    "NbTe2": {"metal": "Nb", "chalcogen": "Te", "d_count": 1, "file": "NbTe2_....cif",
              "kind": "experimental", "role": "candidate", "layers": [1, 3]},
"""
from __future__ import annotations

from ..store.params import check_choice


MATERIALS = {
    "WTe2": {"metal": "W", "chalcogen": "Te", "d_count": 2, "file": "WTe2_Td_Mar1992.cif",
             "kind": "experimental", "role": "the paper's material", "layers": [1, 2, 3],
             "structure": "Td (Pmn2_1), Mar et al. (1992), 113 K"},
    "MoTe2": {"metal": "Mo", "chalcogen": "Te", "d_count": 2, "file": None, "prototype": "WTe2",
              "kind": "computed", "role": "candidate named by the paper (monolayer 1T')", "layers": [1],
              "structure": "1T' monolayer relaxed with PBE from the Td-WTe2 layer with Mo on the W sites"},
    "ReSe2": {"metal": "Re", "chalcogen": "Se", "d_count": 3,
              "file": "ReSe2_P-1_AlcockKjekshus1965_COD1539529.cif", "kind": "experimental",
              "role": "candidate named by the paper (trilayer)", "layers": [1, 3],
              "structure": "triclinic P-1, Re4 diamond chains, Alcock and Kjekshus (1965), COD 1539529"},
    "MoS2": {"metal": "Mo", "chalcogen": "S", "d_count": 2,
             "file": "MoS2_2H_P63mmc_Schoenfeld1983_AFLOW-C7.cif", "kind": "experimental",
             "role": "negative control (trigonal prismatic, horizontal mirror)", "layers": [1, 2],
             "structure": "2H (P6_3/mmc), Schoenfeld et al. (1983)"},
}

#: Other refinements of a material's experimental structure (label: file), the default first.
REFINEMENTS = {
    "WTe2": {"Mar 1992 (default file)": "WTe2_Td_Mar1992.cif",
             "Mar 1992 (WannierTools file)": "WTe2_Td_Pmn21_Mar1992_via_WannierTools.cif",
             "Brown 1966 (COD 2310355)": "WTe2_Td_Pnm21_Brown1966_COD2310355.cif"},
}

#: Electrons of each GPAW PBE setup below the metal-d / chalcogen-p manifold (semicore shells):
#: W 5s5p, Mo 4s4p, Re 5p (its setup has no 5s), Te 5s, Se 4s, S 3s.
SEMICORE = {"W": 8, "Mo": 8, "Re": 6, "Te": 2, "Se": 2, "S": 2}


def check(material: str) -> dict:
    """The registry entry of `material`; ValueError naming the known materials otherwise."""
    check_choice("material", material, MATERIALS)
    return MATERIALS[material]


def pd_projections(symbols) -> dict:
    """The p-d model of a structure with these chemical symbols: d on every metal, p on every
    chalcogen of the registry ({'W': 2, 'Te': 1} for WTe2)."""
    metals = {m["metal"] for m in MATERIALS.values()}
    chalcogens = {m["chalcogen"] for m in MATERIALS.values()}
    out = {s: 2 for s in sorted(set(symbols)) if s in metals}
    out.update({s: 1 for s in sorted(set(symbols)) if s in chalcogens})
    unknown = sorted(set(symbols) - set(out))
    if unknown or not any(v == 2 for v in out.values()):
        raise ValueError(f"no p-d model for the elements {sorted(set(symbols))}: {unknown or 'no metal'} "
                         f"not in helpers.dft.materials.MATERIALS")
    return out


def metal_indices(atoms) -> list:
    """Indices of the metal atoms (any registry metal) of a structure."""
    metals = {m["metal"] for m in MATERIALS.values()}
    return [i for i, s in enumerate(atoms.get_chemical_symbols()) if s in metals]

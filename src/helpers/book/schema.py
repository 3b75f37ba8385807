"""The parameters of every page, their defaults per profile and their checks; the command that computes what a page asks for."""
from __future__ import annotations

import json
import shlex
from pydantic import ValidationError, model_validator

from ..dft import materials as dft_materials
from ..dft import structures
from ..store import cache
from ..store.params import PROFILES
from .schema_fields import Page, ParameterError, below, choice, choices, flag, grid, integer, j_at_most_u3, number, numbers, setting


#: page name -> notebook stem
NOTEBOOKS = {"intro": "00_intro", "valence": "01_valence", "afe": "02_afe_lattice", "afo": "03_afo_order",
             "fe": "04_fe_dipole", "generalization": "05_generalization",
             "transition": "06_transition", "scorecard": "07_scorecard"}


# the materials and choices each page knows (imported lazily would hide them from the schema)
def _materials():
    return structures.EXPERIMENTAL, structures.METAL, dft_materials.MATERIALS


EXPERIMENTAL, METAL, REGISTRY = _materials()
CANDIDATES = [m for m, e in REGISTRY.items() if m != "WTe2" and not e["role"].startswith("negative control")]
READINGS = ("energy order", "continuity from 1T", "local octahedral frame", "trigonal frame")
BASES = ("dzp", "szp(dzp)")                 # LCAO bases the installed GPAW setups provide
BRANCHES = ("NM", "FM", "AFM")              # helpers.rungs.valence.mean_field.GPAW_BRANCHES
W3_ORDERS = ("FM", "AFM")                   # helpers.dft.layers.W3_ORDERS
DCOUNTS = ("d2", "d3")                      # helpers.dft.layers.EXTRA_ELECTRONS

Profile = choice(PROFILES, "a profile of helpers.store.params:")
Material = choice(EXPERIMENTAL, "a material with an experimental structure:")
Interaction = number(0.1, 20, "eV", "an interaction")
HubbardU = number(0, 20, "eV", "a DFT+U U_eff")
KptDensity = setting("kpt_density", 0.5, 20, "points per 1/Angstrom", "a k-point density")
Smearing = setting("smearing", 0, 0.5, "eV", "a Fermi-Dirac width", lo_open=True)
Basis = choice(BASES, "a GPAW LCAO basis available with the installed setups:")
ELow = number(-4, -0.25, "eV from E_F", "a window edge below E_F")
ELowScan = numbers(-4, -0.25, "eV from E_F", "window edges below E_F", optional="the profile's")
Width = number(0.05, 2, "eV", "a window width")
PdWindow = numbers(-20, 20, "eV from E_F", "band edges [low, high] with low < 0 < high", length=2)
Reading = choice(READINGS, "a reading of a, b, c:")
UScan = numbers(0.1, 20, "eV", "interactions", optional="the profile's")
JScan = numbers(0, 5, "eV", "Hund couplings", optional="the profile's")
Lambdas = numbers(0, 1, "", "path fractions", optional="the profile's")
ConvKpts = numbers(0.5, 20, "points per 1/Angstrom", "k-point densities", optional="the profile's")


class Intro(Page):
    material: Material = "WTe2"
    profile: Profile = "paper"
    U: Interaction = 3.0
    field_V_per_nm: number(0, 10, "V/nm", "an out-of-plane field", lo_open=True) = 0.1


class Valence(Page):
    material: Material = "WTe2"
    profile: Profile = "paper"
    kpt_density: KptDensity = None
    smearing: Smearing = None
    basis: Basis = "dzp"
    U_max: number(0, 40, "eV", "an interaction", lo_open=True) = 10.0
    U_min: number(0, 40, "eV", "an interaction", lo_open=True) = 3.0
    U_step: number(0, 10, "eV", "an annealing step", lo_open=True, optional="0.5 at paper, 2.5 at smoke") = None
    interaction: choice(("slater", "dudarev"), "an interaction form:") = "slater"
    J: number(0, 5, "eV", "a Hund exchange") = 0.5
    f4_over_f2: number(0, 1, "", "a ratio F4/F2", lo_open=True) = 0.625
    double_counting: choice(("FLL", "AMF"), "a double counting:") = "FLL"
    mf_width: number(0, 1, "eV", "a Fermi-Dirac width", lo_open=True) = 0.05
    hf_grid: grid() = None
    e_low: ELow = -1.5
    window_width: Width = 0.5
    robustness: flag() = True
    gpaw_check: flag() = True
    gpaw_U: HubbardU = 3.0
    gpaw_branches: choices(BRANCHES) = ["NM", "AFM"]

    @model_validator(mode="after")
    def _relations(self):
        below(self.U_min, self.U_max, "U_min", "U_max")
        j_at_most_u3(self.J, self.U_min, "J", "U_min")
        return self


class Afe(Page):
    material: choice(METAL, "a material of the fictitious 1T layer:") = "WTe2"
    profile: Profile = "paper"
    ecut: setting("ecut", 150, 1500, "eV", "a plane-wave cutoff") = None
    kpt_density: KptDensity = None
    smearing: Smearing = None
    fmax: setting("fmax", 0.001, 5, "eV/Angstrom", "a force tolerance") = None
    max_steps: setting("max_steps", 1, 1000, "", "a number of steps", integer=True) = None
    relax_cell: flag("the profile's") = None
    vacuum: setting("vacuum", 5, 40, "Angstrom", "a vacuum") = None
    dcounts: choices(DCOUNTS) = ["d2", "d3"]
    w3_orders: choices(W3_ORDERS, empty=True) = ["FM"]
    w3_U: HubbardU = 3.0
    w3_reference: flag() = False
    rattle_amplitude: number(0, 0.5, "Angstrom", "a displacement", lo_open=True) = 0.05
    seed: integer(0, 2**32 - 1, "a random seed") = 1
    nominal_valence: number(0, 8, "e", "a charge", lo_open=True) = 4.0
    convergence_ecuts: numbers(150, 1500, "eV", "cutoffs", optional="the profile's") = None
    convergence_kpt_densities: ConvKpts = None


class Afo(Page):
    material: Material = "WTe2"
    profile: Profile = "paper"
    kpt_density: KptDensity = None
    smearing: Smearing = None
    basis: Basis = "dzp"
    U: Interaction = 3.0
    J: number(0, 5, "eV", "a Hund exchange") = 0.5
    U_scan: UScan = None
    J_scan: JScan = None
    hf_grid: grid() = None
    e_low: ELow = -1.5
    window_width: Width = 0.5
    e_low_scan: ELowScan = None
    pd_window: PdWindow = [-8.0, 6.0]
    path_lambdas: Lambdas = None
    main_reading: Reading = "energy order"
    dftu_check: flag() = True
    dftu_U_eff: HubbardU = 3.0
    convergence_kpt_densities: ConvKpts = None
    wannier90: flag() = True
    dftu_states: flag() = True

    @model_validator(mode="after")
    def _relations(self):
        j_at_most_u3(self.J, self.U, "J", "U")
        return self


class Fe(Page):
    material: Material = "WTe2"
    profile: Profile = "paper"
    kpt_density: KptDensity = None
    smearing: Smearing = None
    basis: Basis = "dzp"
    hf_grid: grid() = None
    e_low: ELow = -1.5
    window_width: Width = 0.5
    e_low_scan: ELowScan = None
    pd_window: PdWindow = [-8.0, 6.0]
    U: Interaction = 3.0
    J: number(0, 5, "eV", "a Hund exchange") = 0.5
    main_reading: Reading = "energy order"
    fields_V_per_nm: numbers(-10, 10, "V/nm", "fields") = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    bilayer_dft: flag() = True

    @model_validator(mode="after")
    def _relations(self):
        j_at_most_u3(self.J, self.U, "J", "U")
        return self


class Generalization(Page):
    materials: choices(CANDIDATES, what="a list of") = ["MoTe2", "ReSe2"]
    profile: Profile = "paper"
    kpt_density: KptDensity = None
    smearing: Smearing = None
    basis: Basis = "dzp"
    e_low: ELow = -1.5
    window_width: Width = 0.5
    e_low_scan: ELowScan = None
    pd_window: PdWindow = [-8.0, 6.0]
    U: Interaction = 3.0
    J: number(0, 5, "eV", "a Hund exchange") = 0.5
    U_low: number(0, 20, "eV", "an interaction below U", lo_open=True, optional="skip") = 1.5
    field_V_per_nm: number(0, 10, "V/nm", "an out-of-plane field", lo_open=True) = 0.1
    min_dipole_eA: number(0, 1, "e*Angstrom", "a dipole", lo_open=True, hi_open=True) = 0.01

    @model_validator(mode="after")
    def _relations(self):
        j_at_most_u3(self.J, self.U, "J", "U")
        below(self.U_low, self.U, "U_low", "U")
        return self


class Transition(Page):
    material: Material = "WTe2"
    profile: Profile = "paper"
    reading: Reading = "local octahedral frame"
    J: number(0, 5, "eV", "a Hund exchange") = 0.5
    U: Interaction = 3.0
    mc_U: number(0.1, 20, "eV", "an interaction of the ordered runs", optional="the smallest U with couplings") = None
    seed: integer(0, 2 ** 31 - 1, "a random seed") = 1
    sliding_points: numbers(0, 1, "", "path fractions", optional="the profile's") = None

    @model_validator(mode="after")
    def _relations(self):
        j_at_most_u3(self.J, self.U, "J", "U")
        s = self.sliding_points
        if s is not None and (len(s) < 3 or any(b <= a for a, b in zip(s, s[1:]))):
            raise ValueError(f"sliding_points={s!r} is not allowed: a sliding path needs at least three "
                             "increasing fractions in [0, 1]")
        return self


class Scorecard(Page):
    material: Material = "WTe2"
    profile: Profile = "paper"
    U: Interaction = 3.0
    valence_U_max: number(0, 40, "eV", "an interaction", lo_open=True) = 10.0
    valence_J: number(0, 5, "eV", "a Hund exchange") = 0.5
    w3_U: HubbardU = 3.0
    w3_orders: choices(W3_ORDERS, empty=True) = ["FM"]
    w3_reference: flag() = False
    J_orbital: number(0, 5, "eV", "a Hund exchange") = 0.5
    U_scan: UScan = None
    J_scan: JScan = None
    e_low: ELow = -1.5
    window_width: Width = 0.5
    e_low_scan: ELowScan = None
    path_lambdas: Lambdas = None
    main_reading: Reading = "energy order"
    generalization_materials: choices(CANDIDATES) = ["MoTe2", "ReSe2"]
    generalization_min_dipole_eA: number(0, 1, "e*Angstrom", "a dipole", lo_open=True, hi_open=True) = 0.01
    generalization_U_low: number(0, 20, "eV", "an interaction below U", lo_open=True, optional="skip") = 1.5

    @model_validator(mode="after")
    def _relations(self):
        below(self.U, self.valence_U_max, "U", "valence_U_max")
        j_at_most_u3(self.valence_J, self.U, "valence_J", "U")
        j_at_most_u3(self.J_orbital, self.U, "J_orbital", "U")
        below(self.generalization_U_low, self.U, "generalization_U_low", "U")
        return self


PAGES: dict[str, type[Page]] = {"intro": Intro, "valence": Valence, "afe": Afe, "afo": Afo, "fe": Fe,
                                "generalization": Generalization,
                                "transition": Transition, "scorecard": Scorecard}

#: the parameters of the page last checked in this process: (page, {name: value})
current: tuple[str, dict] | None = None


def page_of(name: str) -> str:
    """The page of a page name or notebook stem ('afe', '02_afe_lattice')."""
    if name in PAGES:
        return name
    for page, stem in NOTEBOOKS.items():
        if name == stem or name == f"{stem}.ipynb":
            return page
    raise ParameterError(f"no parameter schema for {name!r}; pages: {list(PAGES)}")


def _plain(v):
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def _message(page: str, model: type[Page], values: dict, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = e["loc"]
        if not loc:                                         # a relation: its own sentence
            lines.append(str(e["ctx"]["error"]) if "ctx" in e and "error" in e["ctx"] else e["msg"])
            continue
        name = str(loc[0])
        if name not in model.model_fields:
            lines.append(f"{name} is not a parameter of this page; its parameters: {list(model.model_fields)}")
            continue
        where = f" (entry {loc[1]})" if len(loc) > 1 and isinstance(loc[1], int) else ""
        allowed = model.model_fields[name].description
        lines.append(f"{name}={values.get(name)!r}{where} is not allowed: must be {allowed}")
    seen = []
    for line in lines:                                      # one line per parameter
        if line.split("=")[0] not in [s.split("=")[0] for s in seen]:
            seen.append(line)
    return f"{NOTEBOOKS[page]}: " + "; ".join(seen)


def validate(page: str, values: dict) -> Page:
    """The page's parameters `values` ({name: value}, any subset) validated; ParameterError
    naming each parameter refused, its value and what is allowed."""
    page = page_of(page)
    model = PAGES[page]
    values = {k: _plain(v) for k, v in values.items()}
    try:
        return model.model_validate(values)
    except ValidationError as err:
        raise ParameterError(_message(page, model, values, err)) from None


def check(page: str, namespace: dict) -> dict:
    """Validate the page's parameters as they are in `namespace` (a notebook's `locals()`: names
    that are not parameters are ignored); records them for missing-result messages and returns
    {name: value}. Raises ParameterError before any calculation."""
    global current
    page = page_of(page)
    names = PAGES[page].model_fields
    values = {k: namespace[k] for k in names if k in namespace}
    validate(page, values)
    current = (page, values)
    cache.record_request(command(page, values))
    return values


def defaults(page: str) -> dict:
    return {k: f.default for k, f in PAGES[page_of(page)].model_fields.items()}


def command(page: str | None = None, values: dict | None = None) -> str | None:
    """The command that executes `page` with the parameters `values` that differ from its
    defaults (profile always given); defaults: the page last checked. None if nothing was checked."""
    if page is None:
        if current is None:
            return None
        page, values = current
    page = page_of(page)
    values = dict(values or {})
    profile = values.pop("profile", "paper")
    base = defaults(page)
    args = [f"python -m helpers execute --profile {shlex.quote(str(profile))} {NOTEBOOKS[page]}"]
    for k, v in values.items():
        if k in base and _plain(v) != base[k]:
            args.append(f"-p {k} {shlex.quote(json.dumps(_plain(v)) if not isinstance(v, str) else v)}")
    return " ".join(args)

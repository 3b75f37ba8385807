"""The DFT+U ordered-state releases: patterns of filled orbitals, schedules, protocols and numerics, as jobs."""
from __future__ import annotations

import numpy as np

from helpers.dft import jobs as dft_jobs
from helpers.dft.process import NUMERICS, numerics_label
from helpers.store import params


#: Ordered patterns of the primitive cell: orbital filled on W1 and on W2 (letters index a, b, c).
PATTERNS = {"a2a2": "aa", "b2b2": "bb", "c2c2": "cc", "b2c2": "bc", "c2b2": "cb", "d2d2": "dd"}
#: The orbital of each letter of a pattern: a, b, c of the reading, and d = (b + c)/sqrt(2), the b-c pair
#: rotated by 45 degrees (with b2b2 and c2c2 it fixes an FO energy A + B cos 2t + C sin 2t over the b-c plane).
LETTERS = {"a": {0: 1.0}, "b": {1: 1.0}, "c": {2: 1.0}, "d": {1: 2 ** -0.5, 2: 2 ** -0.5}}
#: The starts biased toward b and c (the a2a2 control and the high-spin starts are not).
ORDERED_STARTS = ("b2b2", "c2c2", "b2c2", "c2b2", "d2d2")
#: The largest bias strength (eV) from which a release may drop to zero and still count as controlled.
RELEASE_LAST_MAX = 0.1
#: A spin-polarized state whose largest |moment| is below this (muB) is non-magnetic.
NON_MAGNETIC_MUB = 0.01
#: The protocol of a branch biased and released at its own U_eff (the annealed ones name their start U).
PROTOCOL_DIRECT = "released at U, bias on the d shell"
#: GPAW's MSR1 mixer with each step a new SCF from the current density (helpers.dft.gpaw_job.dftu.restart_step).
MSR1_FRESH = {"backend": "msr1", "fresh_each_step": True}
#: The reading of a, b, c the targets and the verdicts use unless a protocol names another.
MAIN_READING = "energy order"
#: Per reading of a, b, c, the starts that a symmetry of the W site maps onto another start (image: start):
#: in the local octahedral frame the site mirror exchanges b and c on each W, so c2c2 is b2b2's mirror image
#: (a check of the code, not a further test) and need not be computed for a verdict.
MIRROR_IMAGES = {"local octahedral frame": {"c2c2": "b2b2"}}
#: Release schedules (eV) and SCF caps [biased steps, last]: the fine one, for a branch that ends near 0.3 eV,
#: and the coarse one it replaced.
FINE_RELEASE = {"release": [1.0, 0.5, 0.35, 0.25, 0.175, 0.1, 0.05, 0.0], "maxiter": [200, 200]}
COARSE_RELEASE = {"release": [1.0, 0.5, 0.25, 0.1, 0.0], "maxiter": [80, 200]}
#: The fine schedule carried on to 0.01 eV: for a state whose order holds to the fine schedule's last bias.
FINER_RELEASE = {"release": [1.0, 0.5, 0.35, 0.25, 0.175, 0.1, 0.05, 0.025, 0.01, 0.0], "maxiter": [200, 200]}
#: Settings per profile: U_eff values (eV) of the restricted and spin-polarized ordered states biased at their
#: own U, the release schedule (eV), SCF caps, and the annealed protocols (a list; see annealed_jobs).
SETTINGS = {
    # smoke: every step stops at its cap (8 iterations, 12 at the last step), far from convergence; it
    # exercises the code path (53 s on the valence page, 47 s on the AFO page with the smoke LCAO grid, on shared
    # cores; 1.4 and 1.2 min in a clean-clone test run before it)
    "smoke": {"U_restricted": [3.0], "U_polarized": [], "release": [1.0, 0.0], "patterns": ["b2c2"],
              "readings": ["energy order"], "conv_kpt_densities": [], "conv_smearings": [],
              "maxiter": [8, 12], "annealed": None},
    # the starts planned so far (a page built from the cache names those not yet computed); still to come:
    # a converged release (explicit Pulay mixer, finer steps), a2a2, the local frame's mirror partners,
    # U_eff 4.5 and 6 eV, spin-polarized 3 and 6 eV, k and smearing convergence
    "paper": {"U_restricted": [3.0], "U_polarized": [], "release": [1.0, 0.3, 0.0],
              "patterns": ["b2c2", "b2b2", "c2c2", "c2b2"], "readings": ["energy order"],
              "conv_kpt_densities": [], "conv_smearings": [], "maxiter": [60, 250],
              # interaction annealing of the ordered states: biased and released at the largest U_eff, then
              # U_eff lowered step by step, each step from the previous density (Pulay mixer); the bias acts
              # on the whole d shell or only within a, b, c ('subspace')
              "annealed": [{"U_grid": [6.0, 5.0, 4.0, 3.0], "release": [1.0, 0.5, 0.0], "subspace": False,
                            "starts": ["unbiased", "b2c2"], "maxiter": [80, 200]},
                           {"U_grid": [6.0, 5.0, 4.0, 3.0], "release": [1.0, 0.5, 0.25, 0.1, 0.0], "subspace": True,
                            # a2a2: the control, a bias toward the reference's own leading orbital; d2d2: the FO of
                            # (b + c)/sqrt(2), so that the FO is tested over the whole b-c plane, not at b and c alone
                            "starts": ["b2c2", "b2b2", "c2c2", "a2a2", "d2d2"], "maxiter": [80, 200],
                            # b2b2's step at 0.25 eV stalled (density residual 10^-2.7 after 80 iterations), and b2c2's
                            # at 0.5 eV stopped at its cap (10^-4.7, converged only by RESIDUAL_OK_LOG10): a finer
                            # release with a higher cap; the coarse runs stay as checks of the schedule
                            "per_start": {"b2b2": FINE_RELEASE, "b2c2": FINE_RELEASE, "d2d2": FINE_RELEASE},
                            "schedule_checks": {"b2b2": COARSE_RELEASE, "b2c2": COARSE_RELEASE}},
                           # released at 8 eV, where the mean field still orders, and annealed to 6 eV, where it meets
                           # the branches above (the unbiased SCF stalls at 8 and 7 eV; the reference there is a
                           # converged fall-back)
                           {"U_grid": [8.0, 7.0, 6.0], "release": [1.0, 0.5, 0.25, 0.1, 0.0], "subspace": True,
                            "starts": ["unbiased", "b2c2", "b2b2", "c2c2", "a2a2"], "maxiter": [80, 200],
                            # with Pulay no step of b2c2 below lambda = 0.5 eV converged at 8 eV: the other starts run
                            # with MSR1, each step a fresh SCF from the current density (which converges every step of
                            # the 1T layer's restricted release at 8 eV)
                            "per_start": {s: {"mixer": MSR1_FRESH} for s in ("b2b2", "c2c2", "a2a2")}},
                           # the local octahedral frame at 8 eV: there the c2c2 start of the protocol above ends, converged and
                           # unbiased, with b of that frame filled on W1 and c on W2 (0.92 each; W1-W2 overlap 0.42), 6 meV/f.u.
                           # below the a2a2 state (11 at 7 eV): that reading's AFO, released from its own bias, against its FO
                           # (c2c2 is b2b2's mirror image), and the unbiased SCF with MSR1 (with Pulay it stalled at 8 eV)
                           {"U_grid": [8.0, 7.0, 6.0], "release": [1.0, 0.5, 0.25, 0.1, 0.0], "subspace": True,
                            "reading": "local octahedral frame", "starts": ["unbiased", "b2c2", "b2b2"], "maxiter": [80, 200],
                            "mixer": MSR1_FRESH, "label": "MSR1"},
                           # spin-polarized: the ordered starts with both spins biased alike and the W moments seeded at
                           # +-0.5 muB, and the high-spin d2 antiferromagnet, released at 4 eV and annealed to 3 eV
                           # (the only release inside the U window the projectors' calibration allows): c2c2's step at
                           # 0.1 eV stopped at its cap at 10^-4.9, converged only by RESIDUAL_OK_LOG10, so c2c2 runs with
                           # the fine schedule (the coarse run stays as a check of the schedule); a2a2, the control, gives
                           # the a^2 state's constrained energy at equal occupation inside the window
                           {"U_grid": [4.0, 3.0], "release": [1.0, 0.5, 0.25, 0.1, 0.0], "subspace": True,
                            "spin": "polarized", "starts": ["unbiased", "b2c2", "b2b2", "c2c2", "high-spin AFM", "a2a2"],
                            "maxiter": [80, 200], "per_start": {"c2c2": FINE_RELEASE},
                            "schedule_checks": {"c2c2": COARSE_RELEASE}},
                           # spin-restricted inside that window too: released at 5 eV (the restricted releases above start
                           # at 6 and 8 eV, outside it) with the fine schedule, and annealed to 4 eV
                           {"U_grid": [5.0, 4.0], **FINE_RELEASE, "subspace": True,
                            "starts": ["unbiased", "b2b2", "c2c2", "b2c2"]},
                           # the other reading with b and c nearly degenerate (the local octahedral frame, where the site
                           # mirror exchanges them): its polar AFO and its FO (c2c2 is b2b2's mirror image), judged in
                           # its own a, b, c
                           {"U_grid": [6.0, 5.0, 4.0, 3.0], **FINE_RELEASE, "subspace": True,
                            "reading": "local octahedral frame", "starts": ["b2c2", "b2b2"],
                            # its b2c2 still ordered at the last bias (0.05 eV) and unordered only without it: the
                            # release carried on to 0.01 eV, a check of whether one SCF stepped over a shallow minimum
                            "schedule_checks": {"b2c2": FINER_RELEASE}},
                           # k grid and smearing near the verdict's margin: b2b2 released at 6 eV with the fine schedule
                           # (FO with +339 meV/f.u. over the reference at lambda = 0.35 eV, already unpolarized at 0.25)
                           # on a denser k grid (11 x 6 against 8 x 4) and with a smaller Fermi width, each against the
                           # unbiased state of its own numerics; the profile's numerics are the annealed b2b2's first
                           # steps. A check of the numbers, kept out of the verdicts (numerics_convergence)
                           *({"U_grid": [6.0], "subspace": True, "convergence": True, "starts": ["unbiased", "b2b2"],
                              **FINE_RELEASE, **numerics} for numerics in ({"kpt_density": 6.0}, {"smearing": 0.02})),
                           # the thinnest margin: the local frame's AFO (non-polar by symmetry) holds its order down to lambda = 0.1 eV
                           # (+27 meV/f.u.) and falls only in the last steps; a 0.05 eV Fermi width (about 580 K, above
                           # the ordering temperature) could smear out an order of a few tens of meV. The same release
                           # with a 0.02 eV width (its unbiased reference is the b2b2 check's)
                           {"U_grid": [6.0], "subspace": True, "convergence": True, "reading": "local octahedral frame",
                            "starts": ["b2c2"], **FINE_RELEASE, "smearing": 0.02}]},
}


def pattern_targets(pattern: str, orbitals: np.ndarray, metals: list, spinpol: bool = False,
                    subspace: bool = False) -> dict:
    """Occupation-control targets of a pattern: the named orbital (columns 0, 1, 2 of `orbitals`
    are a, b, c in GPAW's d order; d = (b + c)/sqrt(2), LETTERS) doubly occupied on each metal of `metals` (W1, W2); for a
    spin-polarized run the same orbital in both spins. With `subspace`, the bias acts within a, b, c
    only (the target lowered, the other two raised; the two remaining d orbitals, which carry most of
    the covalent W-Te bonding, left alone); without, within the whole d shell."""
    if pattern not in PATTERNS:
        raise ValueError(f"pattern={pattern!r}: choose from {list(PATTERNS)}")
    O = np.asarray(orbitals, float)
    if O.shape != (5, 5):
        raise ValueError(f"orbitals: need the 5x5 matrix of a reading (columns a, b, c, ...), got {O.shape}")
    out = {}
    for a, letter in zip(metals, PATTERNS[pattern]):
        v = [sum(w * O[:, k] for k, w in LETTERS[letter].items()).tolist()]
        out[int(a)] = {"up": v, "dn": v} if spinpol else {"both": v}
        if subspace:
            out[int(a)]["subspace"] = O[:, :3].T.tolist()
    return out


#: High-spin d2 starts of a spin-polarized protocol: name -> antiferromagnetic between W1 and W2.
HIGH_SPIN = {"high-spin FM": False, "high-spin AFM": True}


def high_spin_targets(orbitals: np.ndarray, metals: list, antiferro: bool) -> tuple[dict, list]:
    """Targets and initial W moments of the high-spin d2 state (a and b singly occupied, one spin):
    ferromagnetic, or antiferromagnetic between W1 and W2."""
    O = np.asarray(orbitals, float)
    ab = [O[:, 0].tolist(), O[:, 1].tolist()]
    out, moments = {}, []
    for i, a in enumerate(metals):
        up = not (antiferro and i % 2)
        out[int(a)] = {"up": ab, "dn": []} if up else {"up": [], "dn": ab}
        moments.append(2.0 if up else -2.0)
    return out, moments


# --- the page ---------------------------------------------------------------------------------------
def branch_jobs(profile: str, orbitals_by_reading: dict, metals: list, n_atoms: int) -> list:
    """The branches a profile computes, in order of importance: per (spin treatment, U_eff) the
    unbiased state, the ordered patterns of the main reading (energy order), the AFO of the local
    octahedral frame's orbitals (the mirror partners), and, spin-polarized, the high-spin d2 states
    (FM, AFM). Each: {'spin', 'U_eV', 'reading', 'state', 'targets', 'magmoms'}."""
    S = SETTINGS[profile]
    out = []
    for spin, Us in (("restricted", S["U_restricted"]), ("polarized", S["U_polarized"])):
        pol = spin == "polarized"
        seed = [0.5, -0.5]                  # small opposite W moments: a polarized run may break spin symmetry
        for U in Us:
            for reading in S["readings"]:
                O = orbitals_by_reading[reading]
                jobs = [("unbiased", None, seed)] if reading == S["readings"][0] else []
                pats = S["patterns"] if reading == S["readings"][0] else ["b2c2"]
                jobs += [(p, pattern_targets(p, O, metals, pol), seed) for p in pats]
                if pol and reading == S["readings"][0]:
                    for afm in (False, True):
                        t, mm = high_spin_targets(O, metals, afm)
                        jobs.append(("high-spin " + ("AFM" if afm else "FM"), t, mm))
                for state, t, mm in jobs:
                    full = None
                    if pol:
                        full = [0.0] * n_atoms
                        for a, x in zip(metals, mm):
                            full[a] = x
                    out.append({"spin": spin, "U_eV": U, "reading": reading, "state": state,
                                "targets": t, "magmoms": full})
    return out


def run_branches(atoms, settings: dict, material: str, orbitals_by_reading: dict, only_cached: bool = False,
                 select=None) -> list:
    """Every branch of branch_jobs (with `select`, a function of a job, those it accepts) through
    helpers.dft.jobs.dftu_branch (cached; `only_cached`: skip those not in the cache instead of computing
    them). Returns the jobs with their 'result' (None where skipped)."""
    symbols = atoms.get_chemical_symbols()
    metals = [i for i, s in enumerate(symbols) if s in ("W", "Mo", "Re")]
    jobs = [j for j in branch_jobs(settings["profile"], orbitals_by_reading, metals, len(atoms))
            if select is None or select(j)]
    for j in jobs:
        label = f"{material}-relaxed-d2-U{j['U_eV']:g}-{'SP' if j['spin'] == 'polarized' else 'NM'}"
        j["result"] = dft_jobs.dftu_branch_or_none(only_cached, atoms, settings, label, [j["U_eV"]], targets=j["targets"],
                                                   release=SETTINGS[settings["profile"]]["release"], magmoms=j["magmoms"],
                                                   metal=symbols[metals[0]], maxiter=SETTINGS[settings["profile"]]["maxiter"])
    return jobs


def annealed_protocol(U0: float, subspace: bool, start: str, numerics: str = "", annealed: bool = True) -> str:
    """The protocol label of an annealed branch: its start U_eff, for a biased start where the bias
    acted (the unbiased reference is the same state whatever the bias of the others), and the
    numerics that differ from the profile's (numerics_label); 'released at' for a one-U protocol."""
    tail = f", {numerics}" if numerics else ""
    how = "annealed from" if annealed else "released at"
    if start == "unbiased":
        return f"{how} {U0:g} eV{tail}"
    return f"{how} {U0:g} eV, bias on {'a, b, c' if subspace else 'the d shell'}{tail}"


def annealed_jobs(profile: str, orbitals: np.ndarray, metals: list, protocols: list | None = None) -> list:
    """The U-annealed branches of a profile (SETTINGS[profile]['annealed'], a list of protocols;
    spin-restricted, main reading): per start, the bias toward its pattern (on the whole d shell or,
    with 'subspace', within a, b, c) at the largest U_eff, released there, then U_eff lowered through
    the grid. Each: {'spin', 'U_grid', 'reading', 'state', 'targets', 'protocol', 'settings'}.
    A start listed under the protocol's 'per_start' runs with its own release schedule and iteration
    caps (numerical choices: it keeps the protocol's label, so its state is compared with the others').
    A protocol may set 'spin' ('restricted', the default, or 'polarized': targets in both spins, W moments
    seeded at +-0.5 muB) and numerics of NUMERICS (its label then names them; 'numerics', 'overrides'), and a
    'label' its protocol label ends with (a protocol that differs from another only by a numerical choice,
    e.g. the mixer, whose unbiased start would otherwise share that one's name).
    `protocols` replaces the profile's list (helpers.rungs.afo.dftu.structure: the same protocols on another layer, which
    a protocol names as 'layer', a key of LAYERS; its label then names the layer too).
    """
    return _annealed_jobs(profile, orbitals, metals, "per_start", protocols)


def schedule_check_jobs(profile: str, orbitals: np.ndarray, metals: list, protocols: list | None = None) -> list:
    """The same annealed starts run again with another release schedule (a protocol's 'schedule_checks',
    start -> {'release', 'maxiter'}): the jobs of annealed_jobs for those starts, with the other schedule."""
    return _annealed_jobs(profile, orbitals, metals, "schedule_checks", protocols)


#: The layers a protocol may run on (its 'layer'; helpers.dft.layers.layer_structures names them), with
#: the words its label and the part of its cache label that name it. Without 'layer': the relaxed d2 layer.
LAYERS = {"relaxed d2": ("", "relaxed-d2"), "experiment": ("experimental layer", "experiment")}


def _annealed_jobs(profile: str, orbitals, metals: list, variant: str, protocols: list | None = None) -> list:
    # `orbitals`: the main reading's 5x5 matrix, or {reading: matrix} (a protocol may name its 'reading')
    by_reading = orbitals if isinstance(orbitals, dict) else {MAIN_READING: orbitals}
    out = []
    for P in (SETTINGS[profile].get("annealed") or []) if protocols is None else protocols:
        layer = P.get("layer", "relaxed d2")
        if layer not in LAYERS:
            raise ValueError(f"layer={layer!r} in an annealed protocol of {profile!r}: choose from {list(LAYERS)}")
        starts = P["starts"] if variant == "per_start" else [st for st in P["starts"] if st in P.get(variant, {})]
        for st in starts:
            A = {k: v for k, v in P.items() if k not in ("per_start", "schedule_checks")} | P.get(variant, {}).get(st, {})
            reading = A.get("reading", MAIN_READING)
            if st == "unbiased" and MAIN_READING in by_reading:
                # no target: the unbiased state is read like every other protocol's reference, in the main reading
                reading = MAIN_READING
            if reading not in by_reading:
                raise ValueError(f"reading={reading!r} in an annealed protocol of {profile!r}: orbitals given for "
                                 f"{sorted(by_reading)}")
            orbitals = np.asarray(by_reading[reading])
            spin = A.get("spin", "restricted")
            if spin not in ("restricted", "polarized"):
                raise ValueError(f"spin={spin!r} in an annealed protocol of {profile!r}: choose 'restricted' or 'polarized'")
            pol = spin == "polarized"
            numerics = numerics_label(A)
            seed = [0.5, -0.5] if pol else None
            if st == "unbiased":
                targets = None
            elif st in HIGH_SPIN:
                if not pol:
                    raise ValueError(f"start {st!r} in a spin-restricted protocol of {profile!r}: a high-spin start "
                                     "needs spin='polarized'")
                targets, seed = high_spin_targets(orbitals, metals, antiferro=HIGH_SPIN[st])
                if A["subspace"]:
                    for t in targets.values():
                        t["subspace"] = np.asarray(orbitals, float)[:, :3].T.tolist()
            else:
                targets = pattern_targets(st, orbitals, metals, spinpol=pol, subspace=A["subspace"])
            def label(reading_):
                # the label names the spin treatment too: rows grouped by protocol alone stay apart
                return annealed_protocol(A["U_grid"][0], A["subspace"], st,
                                         ", ".join(x for x in ("spin-polarized" if pol else "", numerics, LAYERS[layer][0],
                                                               A.get("label", ""),
                                                               "" if reading_ == MAIN_READING or st == "unbiased"
                                                               else f"{reading_} reading") if x),
                                         annealed=len(A["U_grid"]) > 1)
            out.append({"spin": spin, "U_grid": list(A["U_grid"]), "reading": reading, "orbitals": orbitals, "state": st,
                        "layer": layer,
                        "targets": targets, "moment_seed": seed, "numerics": numerics,
                        "overrides": {k: A[k] for k in NUMERICS if A.get(k) is not None},
                        "protocol": label(reading),
                        # the same protocol in the main reading: where a control of another reading is found
                        "main-reading protocol": label(MAIN_READING),
                        "convergence": bool(A.get("convergence")), "settings": A})
    return out


def run_annealed(atoms, settings: dict, material: str, orbitals: np.ndarray, only_cached: bool = False,
                 checks: bool = False, select=None, protocols: list | None = None, layer: str = "relaxed d2") -> list:
    """Every branch of annealed_jobs (with `checks`, of schedule_check_jobs; with `select`, a function
    of a job, only those it accepts) through helpers.dft.jobs.dftu_branch with the Pulay mixer or the protocol's (cached;
    `only_cached`: skip those not in the cache). `atoms` is the layer `layer` (a key of LAYERS) and `protocols`
    (default the profile's) must all run on it. Returns the jobs with their 'result' (None where skipped)."""
    symbols = atoms.get_chemical_symbols()
    metals = [i for i, s in enumerate(symbols) if s in ("W", "Mo", "Re")]
    jobs = (schedule_check_jobs if checks else annealed_jobs)(settings["profile"], orbitals, metals, protocols)
    wrong = sorted({j["layer"] for j in jobs} - {layer})
    if wrong:
        raise ValueError(f"layer={layer!r}: the atoms given are that layer, but protocols name {wrong}")
    jobs = [j for j in jobs if select is None or select(j)]
    for j in jobs:
        A = j["settings"]
        pol = j["spin"] == "polarized"
        label = f"{material}-{LAYERS[layer][1]}-anneal{j['U_grid'][0]:g}-{'SP' if pol else 'NM'}"
        s_j = params.overridden(settings, j["overrides"])
        magmoms = None
        if pol:
            magmoms = [0.0] * len(atoms)
            for a, x in zip(metals, j["moment_seed"]):
                magmoms[a] = x
        j["result"] = dft_jobs.dftu_branch_or_none(only_cached, atoms, s_j, label, j["U_grid"], targets=j["targets"],
                                                   magmoms=magmoms, release=A["release"], metal=symbols[metals[0]],
                                                   maxiter=A["maxiter"], mixer=A.get("mixer", dft_jobs.PULAY_MIXER))
    return jobs

#: The state table's 'numerics' of a branch on the profile's own k grid and smearing.
PROFILE_NUMERICS = "profile's"


def comparable_key(row: dict) -> tuple:
    """What makes two state-table rows comparable in energy: spin treatment, U_eff and numerics."""
    return row["spin"], row["U (eV)"], row.get("numerics") or PROFILE_NUMERICS

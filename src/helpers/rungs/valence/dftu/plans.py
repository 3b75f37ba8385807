"""The DFT+U valence branches: starts (which t2g orbitals each W fills, per spin), settings, mixers, jobs."""
from __future__ import annotations

from helpers.dft import jobs as dft_jobs
from helpers.dft.process import NUMERICS, numerics_label
from helpers.models import identity
from helpers.store import params


#: Starts: name -> (spin treatment, orbitals filled per W (names of TRIGONAL) and spin, initial W
#: moments (muB) of a spin-polarized start). 'both': doubly occupied (spin-restricted run).
STARTS = {
    "unbiased": ("restricted", None, None),
    "unbiased, AFM seed": ("polarized", None, (1.0, -1.0)),
    "d2 a1g² (spin 0)": ("restricted", ({"both": ["a1g"]}, {"both": ["a1g"]}), None),
    "d2 eπ+² (spin 0)": ("restricted", ({"both": ["epi+"]}, {"both": ["epi+"]}), None),
    "d2 eπ+² / eπ−² (spin 0)": ("restricted", ({"both": ["epi+"]}, {"both": ["epi-"]}), None),
    "d0/d4 (spin 0)": ("restricted", ({"both": []}, {"both": ["a1g", "epi+"]}), None),
    "d2 high spin, FM": ("polarized", ({"up": ["a1g", "epi+"], "dn": []}, {"up": ["a1g", "epi+"], "dn": []}), (2.0, 2.0)),
    "d1/d3 (high spin, AFM)": ("polarized", ({"up": ["a1g"], "dn": []}, {"up": [], "dn": ["a1g", "epi+", "epi-"]}), (1.0, -3.0)),
    # the lowest states of the model's annealing (valence page, effective basis): the high-spin d2
    # antiferromagnet at U = 10 eV and the d1/d3 antiferromagnet with a doubly occupied orbital at 3 eV
    "d2 high spin, AFM": ("polarized", ({"up": ["a1g", "epi+"], "dn": []}, {"up": [], "dn": ["a1g", "epi+"]}), (2.0, -2.0)),
    "d1/d3 (a1g¹ / a1g² eπ¹, AFM)": ("polarized", ({"up": ["a1g"], "dn": []}, {"up": ["a1g"], "dn": ["a1g", "epi+"]}), (1.0, -1.0)),
    # a uniform W3+ (d3 on both W, one electron more per W than the nominal d2; the t2g counts tell it
    # from d2, the d-count difference cannot): the half-filled t2g shell and the low-spin a1g² eπ¹, each
    # antiferromagnetic
    "d3/d3 (high spin, AFM)": ("polarized", ({"up": ["a1g", "epi+", "epi-"], "dn": []}, {"up": [], "dn": ["a1g", "epi+", "epi-"]}), (3.0, -3.0)),
    "d3/d3 (a1g² eπ¹, AFM)": ("polarized", ({"up": ["a1g", "epi+"], "dn": ["a1g"]}, {"up": ["a1g"], "dn": ["a1g", "epi+"]}), (1.0, -1.0)),
}
#: The trigonal orbitals by name: columns of helpers.models.identity.trigonal_orbitals.
TRIGONAL = ("a1g", "epi+", "epi-", "esig+", "esig-")
#: Per profile: U_eff grid (eV, decreasing), release schedule (eV), SCF caps (helpers.dft.gpaw_job.dftu.step_maxiter), starts.
SETTINGS = {
    # smoke: every step stops at its cap (8 iterations, 12 at the last step), far from convergence; it
    # exercises the code path (53 s on the valence page, 47 s on the AFO page with the smoke LCAO grid, on shared
    # cores; 1.4 and 1.2 min in a clean-clone test run before it)
    "smoke": {"U_grid": [4.0, 3.0], "release": [1.0, 0.0], "maxiter": [8, 12], "starts": ["d2 a1g² (spin 0)"],
              "read_at": [3.0]},
    # maxiter [release, annealing, last]: at U_eff = 8 eV a release step of the 1T layer that does not
    # converge stalls near 10^-4.6 within about 20 iterations, so 60 is well past that plateau; an
    # annealing step may carry a state that collapses (the a1g² start between 5 and 4 eV), which takes
    # longer, so those steps get 150
    "paper": {"U_grid": [8.0, 7.0, 6.0, 5.0, 4.0, 3.0], "release": [1.0, 0.5, 0.25, 0.1, 0.0], "maxiter": [60, 150, 200],
              # spin-polarized starts need a stronger bias: Dudarev's U_eff splits filled from empty spin-orbitals
              # by about U_eff, the bias splits target from other t2g orbitals by 2 lambda. At 8 eV with lambda = 1 eV
              # the high-spin d2 antiferromagnet fills three majority t2g spin-orbitals, not the two it names; with
              # lambda = 5 eV it holds two (the page's full-bias lines of the two releases). The restricted starts
              # hold theirs at 1 eV (a doubly occupied orbital).
              "release_polarized": [5.0, 2.5, 1.0, 0.5, 0.2, 0.0],
              "starts": list(STARTS),
              # the same start released from a weaker bias (lambda from 1 eV): does the state at lambda = 0 depend on
              # the release? (at full bias it holds three filled t2g spin-orbitals, not two)
              "schedule_checks": {"d2 high spin, AFM": [1.0, 0.5, 0.25, 0.1, 0.0]},
              # the same start with the other spin treatment's mixer (MSR1, each step a new SCF from the current
              # density): does a restricted branch's state depend on the mixer? (the standard: a state is
              # identified by a protocol whose result does not depend on such numerical choices)
              "mixer_checks": {"d2 eπ+² (spin 0)": {"backend": "msr1", "fresh_each_step": True}},
              # the same start on a U_eff grid of half the step (MSR1, whose steps of this start all converge): the
              # Hellmann-Feynman check's trapezoid error falls fourfold for a state that changes smoothly, a jump
              # keeps its size; on the 1 eV grid this start's 7 -> 6 eV mismatch (+16 meV/f.u., MSR1) sits at the
              # tolerance, so whether the restricted lowest state is reached from it is decided here
              "grid_checks": {"d2 eπ+² (spin 0)": {"U_grid": [8.0, 7.5, 7.0, 6.5, 6.0, 5.5, 5.0, 4.5, 4.0, 3.5, 3.0],
                                                    "mixer": {"backend": "msr1", "fresh_each_step": True}}},
              # unbiased runs started at 3 eV (not annealed from 8 eV) and continued down to plain PBE: whether
              # a state at 3 eV lies below the annealed ones, and where the magnetism of spin-polarized DFT+U ends
              "below": {"U_grid": [3.0, 2.0, 1.0, 0.0], "maxiter": [100, 150, 200],
                        "starts": ["unbiased", "unbiased, AFM seed"]},
              # the AFM-seeded state found at 3 eV, lowest there of every branch, followed up to 8 eV: the paper's
              # reading names a state by the large-U_eff configuration it is reached from without a jump, and this
              # state was found, not annealed
              "above": {"U_grid": [3.0, 4.0, 5.0, 6.0, 7.0, 8.0], "maxiter": [100, 150, 200],
                        "starts": ["unbiased, AFM seed"]},
              # the verdict is read at each of these U_eff and decided only where they agree: GPAW's U_eff
              # acts more weakly than the paper's U on its orbitals; measured on the AFO page
              # (helpers.models.pd.u_scale, over its measures of the response) the paper's 3 eV is 3.3-5.8 eV of
              # GPAW's, so the grid points that bracket that range are read, 3 eV and 6 eV included
              "read_at": [6.0, 5.0, 4.0, 3.0],
              # GPAW's default DFT+U divides the d occupation matrix by the bounded partial wave's norm in the PAW
              # sphere, so spin-orbitals hold up to 1.1 electrons here and Dudarev's U_eff Tr[n - nn]/2 rewards
              # them; the plain inner products (':d,U,0', occupations below one) are the other choice of projector,
              # a separate functional whose energies are compared among themselves only. Its U_eff scale is
              # measured like read_at's (helpers.models.pd.u_scale on the AFO page, unscaled projectors): its 3 eV acts
              # 0.29 times as strongly as the model's (0.69 for the default projectors), so the paper's 3 eV is
              # 10.4 eV of it (5.4-26 eV over the measures of the response). The unbiased spin-0 and AFM-seeded
              # states on each U grid (one branch per grid): at 3 eV the nominal comparison with the default
              # projectors (projector_findings), and part (b) read again from the window's lower end to above its
              # central estimate ('read_at'; projector_reading), where the AFM's lead only grows with U_eff if at all.
              # The spin-0 side of that reading includes the ordered closed shells ('ordered': biased and released at
              # the window's top like the main starts, then annealed down it): with the default projectors they lie 0.2,
              # 0.5, 1.0 and 1.5 eV/f.u. below the unbiased spin-0 state at 5-8 eV, more than the AFM's lead at the window's
              # low end.
              # The window assumes that the scale measured in the charge response of the unpolarized distorted layer
              # carries over to the 1T layer's magnetic states (the normalization is the atom's, and Dudarev's term
              # acts on spin and orbital alike through it); at 3 eV the AFM's lead is within k_BT
              "projector": {"scale": False, "U_grids": [[3.0], [12.0, 10.0, 8.0, 6.0, 5.0]], "maxiter": [100, 150, 200],
                            "starts": ["unbiased", "unbiased, AFM seed"], "read_at": [12.0, 10.0, 8.0, 6.0, 5.0],
                            "ordered": ["d2 eπ+² / eπ−² (spin 0)", "d2 eπ+² (spin 0)", "d2 a1g² (spin 0)"]},
              # k grid and smearing (choices of ours): the unbiased spin-0 and AFM-seeded states at 3 eV, the U_eff read
              # where the magnet's lead over spin 0 is smallest, started there with a denser k grid (profile: 4 /Å) and
              # with a narrower Fermi-Dirac width (profile: 0.05 eV); part (b) is read again on each (numerics_reading)
              "numerics": {"U_grid": [3.0], "maxiter": [100, 150, 200], "starts": ["unbiased", "unbiased, AFM seed"],
                           "variants": [{"kpt_density": 6.0}, {"smearing": 0.02}]}},
}
#: Density mixer per spin treatment. Restricted starts: GPAW's Pulay mixer (helpers.dft.jobs.PULAY_MIXER; their
#: steps converge by GPAW's flag, except where the table says not). Spin-polarized starts: GPAW 26's MSR1
#: with its own defaults: with Pulay the first step of the high-spin d2 antiferromagnet (U_eff 8 eV, bias
#: 1 eV) stalls at a density error of 10^-3.2 after 60 iterations, 325 meV/f.u. above the state that MSR1
#: (and the spin-difference mixer of two MSR1) converge to in 27 iterations, agreeing within 0.1 meV. Each
#: step starts as a new calculation from the current density (fresh_each_step; helpers.dft.gpaw_job.dftu.restart_step):
#: without it the next release step (lambda 0.5 eV) froze, its density error at 10^-2.52 for 47 iterations;
#: with it the same step converges in 11.
MIXERS = {"restricted": None, "polarized": {"backend": "msr1", "fresh_each_step": True}}


def site_orbitals(atoms, metals: list, split: bool = True) -> list:
    """Per metal: its trigonal orbitals (5x5, columns TRIGONAL, GPAW's real d order) in its local
    octahedral frame, each degenerate pair split by the site's mirror (epi+, esig+ even; epi-, esig-
    odd), so that sites related by a translation get the same orbitals and 'e_pi^2 on both W' is a
    ferro-orbital start. `split=False`: the pairs as an SVD returns them (an arbitrary basis of each
    pair, differing between the W; a1g and the t2g span are the same either way)."""
    return [identity.trigonal_orbitals(identity.octahedral_frame(atoms, a),
                                       identity.site_operations(atoms, a) if split else None)[0] for a in metals]


def start_targets(name: str, orbitals: list, metals: list, spans: list | None = None) -> tuple[dict | None, list | None]:
    """Occupation-control targets of start `name` (STARTS) on the metals (their trigonal orbitals
    `orbitals`, site_orbitals): {atom: {spin: 5-vectors, 'subspace': t2g}} or None, and the W moments
    (muB) of a spin-polarized start (None for a restricted one). The subspace is the t2g span, written
    with the first three columns of `spans` (default `orbitals`; the jobs give the unsplit orbitals,
    whose form keys the cached branches)."""
    if name not in STARTS:
        raise ValueError(f"start={name!r}: choose from {list(STARTS)}")
    if len(metals) != 2:
        raise ValueError(f"metals={metals!r}: the 1T cell of the valence page has two W")
    spin, per_w, moments = STARTS[name]
    if per_w is None:
        return None, (list(moments) if moments else None)
    out = {}
    for a, O, T, fill in zip(metals, orbitals, spans or orbitals, per_w):
        out[int(a)] = {s: [O[:, TRIGONAL.index(o)].tolist() for o in names] for s, names in fill.items()}
        out[int(a)]["subspace"] = T[:, :3].T.tolist()
    return out, (list(moments) if moments else None)


def jobs(profile: str, atoms) -> list:
    """The branches of a profile on the 1T layer `atoms`: per start its spin treatment, targets,
    initial moments (per atom, None when restricted) and the profile's U grid and release (per spin
    treatment), then the starts of 'schedule_checks' released from another bias (named '<start>, bias
    from <lambda> eV'), of 'mixer_checks' run with another density mixer ('<start>, mixer <NAME>') and of
    'grid_checks' annealed on another U_eff grid ('<start>, U_eff steps of <dU> eV, mixer <NAME>'),
    each with 'check_of' naming its start, then the unbiased runs of the profile's 'below' plan, started at its first U_eff
    and continued down its grid (named '<start>, from <U> eV'), those of its 'projector' plan (GPAW's other d
    projectors, one branch per start and U grid: '<start>, <U> eV, unscaled projectors'), those of its 'numerics' plan (another k
    grid or smearing, 'overrides' of the settings: '<start>, <U> eV, k density 6 /Å'), and those of its 'above' plan, followed up its grid
    ('<start>, from <U> eV up', 'upward'). A profile without a plan (SETTINGS) has none."""
    S = SETTINGS.get(profile)
    if S is None:
        return []
    symbols = atoms.get_chemical_symbols()
    metals = [i for i, s in enumerate(symbols) if s in ("W", "Mo")]
    orbitals, spans = site_orbitals(atoms, metals), site_orbitals(atoms, metals, split=False)

    def job(name: str, U_grid: list, release: list, maxiter: list) -> dict:
        spin = STARTS[name][0]
        targets, moments = start_targets(name, orbitals, metals, spans)
        magmoms = None
        if spin == "polarized":
            magmoms = [0.0] * len(atoms)
            for a, m in zip(metals, moments):
                magmoms[a] = m
        return {"start": name, "spin": spin, "targets": targets, "magmoms": magmoms, "mixer": mixer(spin),
                "U_grid": list(U_grid), "release": list(release), "maxiter": list(maxiter)}

    out = [job(name, S["U_grid"], S.get("release_polarized", S["release"]) if STARTS[name][0] == "polarized"
               else S["release"], S["maxiter"]) for name in S["starts"]]
    for name, release in S.get("schedule_checks", {}).items():
        j = next(j for j in out if j["start"] == name)
        out.append(dict(j, start=f"{name}, bias from {release[0]:g} eV", release=list(release), check_of=name))
    for name, mix in S.get("mixer_checks", {}).items():
        j = next(j for j in out if j["start"] == name)
        out.append(dict(j, start=f"{name}, mixer {mix['backend'].upper()}", mixer=dict(mix), check_of=name))
    for name, g in S.get("grid_checks", {}).items():
        j = next(j for j in out if j["start"] == name)
        step = g["U_grid"][0] - g["U_grid"][1]
        out.append(dict(j, start=f"{name}, U_eff steps of {step:g} eV, mixer {g['mixer']['backend'].upper()}",
                        U_grid=list(g["U_grid"]), maxiter=list(S["maxiter"]), mixer=dict(g["mixer"]), check_of=name))
    B = S.get("below")
    for name in (B["starts"] if B else []):
        if STARTS[name][1] is not None:
            raise ValueError(f"below start {name!r}: only unbiased starts are run from {B['U_grid'][0]:g} eV")
        out.append(dict(job(name, B["U_grid"], [0.0], B["maxiter"]), start=f"{name}, from {B['U_grid'][0]:g} eV"))
    P = S.get("projector")
    for grid in (P["U_grids"] if P else []):
        for name in P["starts"]:
            if STARTS[name][1] is not None:
                raise ValueError(f"projector start {name!r}: only unbiased starts are run with the other projectors")
            out.append(dict(job(name, grid, [0.0], P["maxiter"]), projector_scale=bool(P["scale"]),
                            start=f"{name}, {grid[0]:g} eV, {'scaled' if P['scale'] else 'unscaled'} projectors"))
    for name in (P.get("ordered", []) if P else []):
        if STARTS[name][0] != "restricted" or STARTS[name][1] is None:
            raise ValueError(f"projector ordered start {name!r}: only biased spin-0 starts are the spin-0 side of its reading")
        out.append(dict(job(name, P["read_at"], S["release"], S["maxiter"]), projector_scale=bool(P["scale"]), check_of=name,
                        start=f"{name}, {P['read_at'][0]:g} eV, {'scaled' if P['scale'] else 'unscaled'} projectors"))
    N = S.get("numerics")
    for over in (N["variants"] if N else []):
        bad = sorted(set(over) - set(NUMERICS))
        if bad:
            raise ValueError(f"numerics variant {over!r}: may change only {', '.join(NUMERICS)}, not {', '.join(bad)}")
        for name in N["starts"]:
            if STARTS[name][1] is not None:
                raise ValueError(f"numerics start {name!r}: only unbiased starts are run with other numerics")
            out.append(dict(job(name, N["U_grid"], [0.0], N["maxiter"]), overrides=dict(over), numerics_of=name,
                            start=f"{name}, {N['U_grid'][0]:g} eV, {numerics_label(over)}"))
    A = S.get("above")
    for name in (A["starts"] if A else []):
        if STARTS[name][1] is not None:
            raise ValueError(f"above start {name!r}: only unbiased starts are followed up from {A['U_grid'][0]:g} eV")
        out.append(dict(job(name, A["U_grid"], [0.0], A["maxiter"]), upward=True,
                        start=f"{name}, from {A['U_grid'][0]:g} eV up"))
    return out


def mixer(spin: str) -> dict:
    """The density mixer of a start of spin treatment `spin` ('restricted' or 'polarized'; MIXERS)."""
    if spin not in MIXERS:
        raise ValueError(f"spin={spin!r}: choose from {list(MIXERS)}")
    return dict(MIXERS[spin] or dft_jobs.PULAY_MIXER)


def run(atoms, settings: dict, material: str, only_cached: bool = False, select=None) -> list:
    """Every branch of `jobs` (with `select`, a function of a job, those it accepts) through
    helpers.dft.jobs.dftu_branch with the job's mixer (MIXERS) and its 'overrides' of `settings` (cached; `only_cached`:
    those not in the cache are skipped). Returns the jobs with 'result' (None where skipped)."""
    out = [j for j in jobs(settings["profile"], atoms) if select is None or select(j)]
    metal = next(s for s in atoms.get_chemical_symbols() if s in ("W", "Mo"))
    for j in out:
        label = f"{material}-1T-anneal{j['U_grid'][0]:g}-{'SP' if j['spin'] == 'polarized' else 'NM'}"
        s_j = params.overridden(settings, j["overrides"]) if j.get("overrides") else settings
        j["result"] = dft_jobs.dftu_branch_or_none(only_cached, atoms, s_j, label, j["U_grid"], targets=j["targets"],
                                                   release=j["release"], magmoms=j["magmoms"], metal=metal,
                                                   maxiter=j["maxiter"], mixer=j["mixer"], upward=j.get("upward", False),
                                                   projector_scale=j.get("projector_scale", True))
    return out

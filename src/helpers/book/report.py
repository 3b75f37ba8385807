"""The profile banner and the ladder text shared by the pages."""
from __future__ import annotations

from ..rungs.typeset import formulas_html
from .badges import format_energy


#: How each setting of a profile (helpers.store.params.PROFILES) reads in the banner: a name and a format with units.
SETTING_TEXT = {"ecut": "plane-wave cutoff {:g} eV", "kpt_density": "k-point density {:g} per Å⁻¹",
                "smearing": "Fermi–Dirac smearing {:g} eV", "fmax": "force tolerance {:g} eV/Å",
                "max_steps": "at most {} relaxation steps", "relax_cell": "in-plane cell relaxed: {}",
                "vacuum": "vacuum {:g} Å", "grid_spacing": "LCAO grid spacing {:g} Å"}


def setting_text(name: str, value) -> str:
    """One setting of a profile in words, with its unit (booleans as yes/no)."""
    if isinstance(value, bool):
        value = "yes" if value else "no"
    fmt = SETTING_TEXT.get(name)
    return fmt.format(value) if fmt else f"{name} {value}"


def profile_banner(settings: dict) -> str:
    """Markdown line stating the profile and its settings, with units; a warning for `smoke`."""
    txt = ", ".join(setting_text(k, v) for k, v in settings.items() if k != "profile")
    if settings["profile"] == "smoke":
        return (f"> **Smoke profile: the numbers on this page are NOT meaningful.** It runs every code "
                f"path with deliberately crude settings ({txt}). Read the `paper` build for results.")
    return f"Profile **{settings['profile']}**: {txt}."


def ladder_text(ladder: dict, marks: dict) -> str:
    """Markdown saying what the ladder figure shows: each computed scale against the thermal
    energies (how many times k_B T), with the verdict or the disagreement the figure marks."""
    thermal = ladder["thermal"]
    if not thermal or not ladder["scales"]:
        return "No computed scale to compare with the thermal energies yet."
    label, kT = max(thermal.items(), key=lambda kv: kv[1])
    parts = []
    for s in sorted(ladder["scales"], key=lambda s: -s.value_eV):
        if not s.computed:
            continue
        ratio = s.value_eV / kT
        where = f"{ratio:.0f} times" if ratio >= 2 else ("about" if ratio > 0.5 else f"{1 / ratio:.0f} times below")
        txt = f"{s.name}: {format_energy(s.value_eV)}, " + (f"{where} {label}" if ratio >= 2 or ratio <= 0.5 else f"about {label}")
        if s.name in marks.get("opposite", ()):
            txt += ", with the ordering opposite to the paper's"
        if s.name in marks.get("verdicts", {}):
            txt += f" (scorecard: {marks['verdicts'][s.name]})"
        parts.append(txt)
    text = ("Read from the figure, largest first: " + "; ".join(parts) + ". The paper's argument needs the "
            "orbital scale, not the lattice's, to be comparable with k_B T at the transition.")
    return formulas_html(text.replace("k_B T", "k<sub>B</sub>T"))

"""environment.yml (Binder, conda-forge) must name every runtime dependency of pyproject.toml."""
import re
import tomllib

import yaml

from helpers.paths import ROOT


def names(reqs):
    return {re.split(r"[<>=!~\[ ;]", r.strip())[0].lower().replace("_", "-") for r in reqs}


def test_environment_yml_matches_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = names(pyproject["dependencies"])
    for extra in pyproject["optional-dependencies"].values():
        wanted |= names(extra)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = names(d for d in env["dependencies"] if isinstance(d, str))
    missing = wanted - conda
    assert not missing, f"environment.yml lacks {sorted(missing)}"

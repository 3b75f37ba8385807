"""environment.yml (Binder, conda-forge) must name every runtime dependency of pyproject.toml."""
import re
import tomllib

import yaml

from helpers.store.paths import ROOT


#: PyPI names whose conda-forge package is named differently.
CONDA_NAME = {"dftd3": "dftd3-python"}


def names(reqs):
    return {re.split(r"[<>=!~\[ ;]", r.strip())[0].lower().replace("_", "-") for r in reqs}


def test_environment_yml_matches_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {CONDA_NAME.get(n, n) for n in names(pyproject["dependencies"])}
    for extra in pyproject["optional-dependencies"].values():
        wanted |= names(extra)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = names(d for d in env["dependencies"] if isinstance(d, str))
    missing = wanted - conda
    assert not missing, f"environment.yml lacks {sorted(missing)}"


def test_binder_files():
    """repo2docker: the project installed from environment.yml, and postBuild executes the pages
    the launch buttons open, from the committed cache only."""
    import os
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert "-e ." in pip
    post = ROOT / "postBuild"
    assert os.access(post, os.X_OK)
    text = post.read_text()
    assert "COMPENDIUM_REQUIRE_CACHE=1" in text and "python -m helpers execute --profile paper" in text
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"

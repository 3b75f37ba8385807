"""Controlled starting occupations: which local orbitals are filled for each spin on each site.

A site configuration lists the local orbitals filled with spin up and with spin down; local
orbitals are the columns of a unitary `basis` (in the shell's orbital basis), named a, b, c, ...
in column order (e.g. crystal-field levels, lowest first). The occupation matrices it starts from
are the projectors n^s[a,b] = <c^+_a c_b> = sum_{m filled} conj(basis[a,m]) basis[b,m].

Names: 'd2(a^2)' (spin 0, orbital a doubly occupied), 'd2(S=1:ab)' (high spin, a and b up),
'd3(S=3/2)' (high spin filling all chosen orbitals), 'd3(a^2b)' (lowest spin of an odd count),
'd1(a)'; pairs 'X/Y' with ' FM' or ' AFM' when both sites carry a moment.
"""
from __future__ import annotations

from fractions import Fraction
from itertools import combinations
import numpy as np


LETTERS = "abcdefghijklmnop"


def site_occupations(filled_up, filled_dn, basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n_up, n_dn): integer-occupation projectors onto the local orbitals (columns of the unitary
    `basis`) listed in filled_up and filled_dn."""
    B = np.asarray(basis)
    M = B.shape[0]
    if B.shape != (M, M) or not np.allclose(B.conj().T @ B, np.eye(M), atol=1e-8):
        raise ValueError(f"basis: need a unitary square matrix, got shape {B.shape}")

    def proj(filled):
        filled = list(filled)
        if len(set(filled)) != len(filled) or any(not 0 <= m < M for m in filled):
            raise ValueError(f"filled orbitals {filled}: need distinct indices in 0..{M - 1}")
        v = B[:, filled]
        return v.conj() @ v.T

    return proj(filled_up), proj(filled_dn)


def _spin_label(two_s: int) -> str:
    s = Fraction(two_s, 2)
    return str(s.numerator) if s.denominator == 1 else f"{s.numerator}/{s.denominator}"


def site_configurations(n: int, orbitals=(0, 1, 2), families=("spin0", "highspin")) -> list:
    """Site configurations of n electrons in the chosen local `orbitals` (indices of basis columns):
    list of (name, filled_up, filled_dn, two_S).

    'spin0': lowest spin, orbitals doubly occupied in every choice of n//2 of them (plus, for odd n,
    one singly occupied spin-up orbital among the rest), C(k, n//2) (k - n//2) choices at most.
    'highspin': Hund's rule, min(n, k) orbitals up (every choice when n < k), the rest down in
    the first up orbitals; C(k, min(n, k)) choices.
    """
    orbitals = list(orbitals)
    k = len(orbitals)
    if not 0 <= n <= 2 * k:
        raise ValueError(f"n={n}: {k} chosen orbitals hold 0..{2 * k} electrons")
    unknown = set(families) - {"spin0", "highspin"}
    if unknown:
        raise ValueError(f"families: unknown {sorted(unknown)}; choose among 'spin0', 'highspin'")
    out, seen = [], set()

    def add(name, up, dn):
        key = (tuple(sorted(up)), tuple(sorted(dn)))
        if key not in seen:
            seen.add(key)
            out.append((name, sorted(up), sorted(dn), len(up) - len(dn)))

    if n == 0:
        return [("d0", [], [], 0)]
    if "spin0" in families:
        pairs = n // 2
        for dbl in combinations(orbitals, pairs):
            rest = [m for m in orbitals if m not in dbl]
            lab = "".join(f"{LETTERS[m]}^2" for m in dbl)
            if n % 2 == 0:
                add(f"d{n}({lab})", list(dbl), list(dbl))
            else:
                for single in rest:
                    add(f"d{n}({lab}{LETTERS[single]})", list(dbl) + [single], list(dbl))
    if "highspin" in families:
        n_up = min(n, k)
        for ups in combinations(orbitals, n_up):
            dns = list(ups[:n - n_up])
            S = _spin_label(n_up - len(dns))
            if n == 1:
                name = f"d1({LETTERS[ups[0]]})"
            elif n_up == k:
                name = f"d{n}(S={S})" if not dns else f"d{n}(S={S}:{''.join(LETTERS[m] for m in dns)}^2)"
            else:
                name = f"d{n}(S={S}:{''.join(LETTERS[m] for m in ups)})"
            add(name, list(ups), dns)
    return out


def enumerate_starts(n_shell_electrons: int, bases: list, orbitals=(0, 1, 2),
                     families=("spin0", "highspin"), max_disproportionation: int = 2,
                     arrangements=("FM", "AFM"), same_family: bool = True) -> dict:
    """Named starts for a cell with two correlated shells: name -> [(n_up, n_dn) of shell 1,
    (n_up, n_dn) of shell 2].

    Every split (N1, N2) with N1 + N2 = n_shell_electrons, N1 <= N2 and N2 - N1 <=
    max_disproportionation (so d2/d2 and d1/d3 for four electrons with the default 2); per site
    the site_configurations of the chosen `orbitals` and `families`; both sites with a moment give
    the arrangements 'FM' (parallel) and 'AFM' (site 2 spin-flipped). For equal counts and
    same_family=True both sites take the same family (spin 0 with spin 0, high spin with high
    spin), every orbital choice on each site (ferro- and antiferro-orbital). bases: the two
    unitary local bases (columns = local orbitals a, b, c, ...)."""
    if len(bases) != 2:
        raise ValueError(f"bases: need two local bases (two shells), got {len(bases)}")
    k = len(list(orbitals))
    starts = {}
    for N1 in range(0, n_shell_electrons // 2 + 1):
        N2 = n_shell_electrons - N1
        if N2 - N1 > max_disproportionation or N2 > 2 * k or N1 < 0:
            continue
        for fam1 in families:
            for fam2 in families:
                if same_family and N1 == N2 and fam1 != fam2:
                    continue
                for c1 in site_configurations(N1, orbitals, (fam1,)):
                    for c2 in site_configurations(N2, orbitals, (fam2,)):
                        add_pair(starts, c1, c2, bases, arrangements)
    return starts


def add_pair(starts: dict, c1, c2, bases, arrangements=("FM", "AFM"), background=None) -> None:
    """Add to `starts` the two-site start of site configurations c1, c2 (site_configurations
    tuples) in the local `bases`, once per moment arrangement when both sites carry a moment
    ('X/Y FM', 'X/Y AFM': site 2 spin-flipped), else once ('X/Y'). `background` (per site, added to
    both spins; default none) holds occupations kept outside the configuration."""
    (n1, up1, dn1, s1), (n2, up2, dn2, s2) = c1, c2
    bg = background or [0.0, 0.0]

    def site(i, up, dn):
        nu, nd = site_occupations(up, dn, bases[i])
        return (nu + bg[i], nd + bg[i])

    if s1 and s2:
        for arr in arrangements:
            a, b = (up2, dn2) if arr == "FM" else (dn2, up2)
            starts.setdefault(f"{n1}/{n2} {arr}", [site(0, up1, dn1), site(1, a, b)])
    else:
        starts.setdefault(f"{n1}/{n2}", [site(0, up1, dn1), site(1, up2, dn2)])

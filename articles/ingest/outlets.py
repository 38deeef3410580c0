"""The registry of news outlets shipped with the project (``articles/data/outlets.csv``).

Each row gives an outlet's canonical name, its slug, the domains it publishes on
and the other names pages and people use for it. Pages are matched to a row by
host: the host itself, then each parent domain down to the registered domain
(``www1.folha.uol.com.br`` tries ``folha.uol.com.br``, never ``com.br``), so a
sub-brand on its own host (``finance.yahoo.com``) can have its own row.

Registered domains come from tldextract with its bundled copy of the Public
Suffix List: nothing is fetched at run time. Curators refine the outlets the
archive holds in admin (``Outlet.aliases``, the name itself); ``save.outlet_for``
lets those rows win over this file.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import tldextract

REGISTRY_PATH = Path(__file__).resolve().parent.parent / "data" / "outlets.csv"

# suffix_list_urls=() and no cache directory: the snapshot inside the package only.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@dataclass(frozen=True)
class Outlet:
    name: str
    slug: str
    domain: str
    other_domains: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # other names people and page metadata use

    @property
    def domains(self) -> tuple[str, ...]:
        return (self.domain, *self.other_domains)


def read_registry(path: Path = REGISTRY_PATH) -> tuple[Outlet, ...]:
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(_outlet_from_row(row) for row in csv.DictReader(handle))


def _outlet_from_row(row: dict[str, str]) -> Outlet:
    domains = row["domains"].split()
    aliases = tuple(alias.strip() for alias in row["aliases"].split("|") if alias.strip())
    return Outlet(row["name"], row["slug"], domains[0], tuple(domains[1:]), aliases)


OUTLETS: tuple[Outlet, ...] = read_registry()
_BY_DOMAIN = {domain: outlet for outlet in OUTLETS for domain in outlet.domains}
_BY_SLUG = {outlet.slug: outlet for outlet in OUTLETS}


def host_of(domain_or_url: str) -> str:
    """The host of a URL or bare domain, lower-cased, without "www." or "m."."""
    text = domain_or_url.strip().casefold()
    if "//" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:  # a malformed address ("http://[x") names no host
        return ""
    return host.removeprefix("www.").removeprefix("m.")


def registered_domain(domain_or_url: str) -> str:
    """The domain a host is registered under: "edition.cnn.com" -> "cnn.com"."""
    host = host_of(domain_or_url)
    return _EXTRACT(host).top_domain_under_public_suffix if host else ""


def outlet_for_domain(domain_or_url: str) -> Outlet | None:
    """The registry's outlet for this domain or URL ("edition.cnn.com" -> CNN)."""
    host = host_of(domain_or_url)
    registered = registered_domain(host)
    if not registered:
        return None
    labels = host.split(".")
    for start in range(len(labels) - registered.count(".")):
        if outlet := _BY_DOMAIN.get(".".join(labels[start:])):
            return outlet
    return None


def find_outlet(name: str) -> Outlet | None:
    """The registry's outlet a name, slug, alias or domain refers to."""
    wanted = name_key(name)
    if not wanted:
        return None
    if wanted in _BY_SLUG:
        return _BY_SLUG[wanted]
    if outlet := _by_name().get(wanted):
        return outlet
    return outlet_for_domain(name) if "." in name and " " not in name.strip() else None


@functools.cache
def _by_name() -> dict[str, Outlet]:
    return {
        name_key(known): outlet for outlet in OUTLETS for known in (outlet.name, *outlet.aliases)
    }


def name_key(name: str) -> str:
    # "The New York Times", "the new york times" and "the-new-york-times" (a slug made
    # from the name) are one key.
    return re.sub(r"[^\w/]+", "-", name.strip().casefold()).strip("-")

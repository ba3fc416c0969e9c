"""Which site a page belongs to: always said, never guessed from where a file lies.

Site memory compares a page with the other pages of its site, so pages of
different sites must never be counted together. A page's site is therefore
explicit: a name given by the user (``--site NAME``), the host of a URL the
caller knows (a corpus record's url field, Scrapy's response URL, a Spark url
column), or, only when asked for with ``--site-per-folder``, the name of the
folder a scrape file sits in.

Site profiles (:mod:`noiseclf.siteprofile`, what ``noiseclf train`` learns from
a site's labels) use the same names: a page said to be of a site gets that
site's profile; a page whose site is not said may be *recognised* by a profile
from its content (enough of the site's menu and footer lines), never from where
its file lies.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit


def site_of_folder(path: str | Path) -> str:
    """The folder a scrape file sits in (``--site-per-folder``)."""
    parent = Path(path).resolve().parent
    return parent.name or str(parent)


def site_of_url(url: str | None) -> str | None:
    """The host of a URL without a leading ``www.``; None when there is none."""
    if not url:
        return None
    try:
        host = (urlsplit(str(url).strip()).hostname or "").lower()
    except ValueError:
        return None
    if host.startswith("www."):
        host = host[4:]
    return host or None

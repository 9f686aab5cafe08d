"""Stores: where the graph lives. :func:`open_store` picks one from a URL.

* ``sqlite:///relative.db`` / ``sqlite:////abs/path.db``: the embedded store (default).
  A relative path is taken from the current folder.
* ``neo4j://host:port`` / ``bolt://host:port`` (``+s``/``+ssc`` variants): Neo4j.

Reading never creates a store: a SQLite URL naming no file is an error unless
the caller asks for a new store with ``create=True`` (a load does), and the
store then says it was created (``store.created``).
"""

from __future__ import annotations

import os

from kg.errors import StoreUnavailable
from kg.i18n import _l
from kg.store.base import Stats, Store, StoreStatus, UnfinishedLoad

__all__ = ["DEFAULT_STORE_URL", "Stats", "Store", "StoreStatus", "UnfinishedLoad", "open_store", "store_url"]

DEFAULT_STORE_URL = "sqlite:///citykg.db"
_NEO4J_SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")


def store_url(url: str | None = None) -> str:
    """The store URL to use: ``url``, else ``$KG_STORE``, else the default SQLite file."""
    return url or os.environ.get("KG_STORE") or DEFAULT_STORE_URL


def open_store(url: str | None = None, *, create: bool = False) -> Store:
    """Open the store at ``url`` (see the module docs for the accepted forms).

    Parameters
    ----------
    url
        The store URL; default ``$KG_STORE``, else ``sqlite:///citykg.db``.
    create
        Create a SQLite store when the URL names no file (for loads). Without
        it, a URL that names nothing is an error.

    Raises
    ------
    StoreUnavailable
        When the URL is malformed, names no store (and ``create`` is false) or
        the store cannot be used; ``reason`` says which.
    """
    url = store_url(url)
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise StoreUnavailable(_l("store URL {url} has no scheme; expected sqlite:///FILE.db or bolt://HOST:PORT",
                                  url=repr(url)), reason="misconfigured")
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise StoreUnavailable(_l("store URL {url}: expected sqlite:///relative.db or sqlite:////abs/path.db",
                                      url=repr(url)), reason="misconfigured")
        from kg.store.sqlite import SQLiteStore

        return SQLiteStore(rest[1:], url=url, create=create)
    if scheme in _NEO4J_SCHEMES:
        from kg.store.neo4j import Neo4jStore

        return Neo4jStore(url)
    raise StoreUnavailable(
        _l("store URL {url}: unknown scheme {scheme}; expected sqlite, {schemes}", url=repr(url), scheme=repr(scheme),
           schemes=", ".join(_NEO4J_SCHEMES)),
        reason="misconfigured",
    )

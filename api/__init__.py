"""The CityKG REST service: thin FastAPI routes that parse, authorise, call :mod:`kg` and render.

Build an app with :func:`api.main.create_app`; ``api.main:app`` builds one from
the ``KG_*`` environment for ASGI servers. ``kg serve`` runs it with uvicorn.
"""

__all__: list[str] = []

"""CityKG: a knowledge graph of a megacity's infrastructure, risks and agencies."""

from kg.errors import ElementNotFound, KGError, StoreUnavailable, ValidationError

__all__ = ["ElementNotFound", "KGError", "StoreUnavailable", "ValidationError", "__version__"]

__version__ = "0.1.0"

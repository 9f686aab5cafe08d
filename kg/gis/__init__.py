"""GIS in and out: layers of the store, GeoPackage and GeoJSON files, spatial exposures."""

__all__: list[str] = []  # the submodules are the API: kg.gis.layers, read, write, exposures

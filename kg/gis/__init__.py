"""GIS in and out: layers of the store, GeoPackage and GeoJSON files, spatial exposures."""

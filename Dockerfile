# CityKG REST API image: `kg serve` on 0.0.0.0:8000.
#   docker build -t citykg-api .
#   docker run -p 8000:8000 -e KG_STORE=bolt://HOST:7687 -e KG_API_KEYS=KEY:admin citykg-api
# docker-compose.yml runs it next to Neo4j 5 (service `api`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# kg/ontology_data is a symlink to ../ontology: both must be in the build context
COPY pyproject.toml README.md ./
COPY ontology ./ontology
COPY kg ./kg
COPY api ./api
RUN pip install . \
 && useradd --system --uid 10001 --home-dir /app --create-home citykg

USER citykg
WORKDIR /app
# The store (compose sets bolt://neo4j:7687); KG_API_KEYS ("KEY:ROLE,...") must be set at run time.
ENV KG_STORE=bolt://neo4j:7687
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
CMD ["kg", "serve", "--host", "0.0.0.0", "--port", "8000"]

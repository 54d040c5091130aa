# The relgraph API (`relgraph serve`) for docker compose: see README "The API".
# The pages' scripts (GraphiQL, React, Cytoscape, Swagger UI) from npm's pinned versions, built
# here so the image serves them itself (scripts/build-assets; nothing from a CDN at run time).
FROM node:20-slim AS assets
WORKDIR /src
COPY frontend/package.json frontend/package-lock.json frontend/
COPY scripts/build-assets scripts/
RUN scripts/build-assets

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY api api
COPY --from=assets /src/api/web/static/vendor api/web/static/vendor
COPY graph graph
COPY connectors connectors
COPY curation curation
COPY analytics analytics
COPY demoworld demoworld
RUN pip install --no-cache-dir . "websockets>=13"
ENV RELGRAPH_DATA_DIR=/data RELGRAPH_API_HOST=0.0.0.0 RELGRAPH_API_PORT=8000
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --retries=12 CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status != 200)"
CMD ["relgraph", "serve"]

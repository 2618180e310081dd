# syntax=docker/dockerfile:1
# Build: docker build -t scribe .   Run: docker run -p 8000:8000 --env-file .env scribe
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN python -m venv /opt/venv
COPY pyproject.toml README.md alembic.ini ./
COPY src ./src
COPY migrations ./migrations
# Editable, so `migrations/` stays beside the code where `scribe db upgrade` looks for it.
RUN /opt/venv/bin/pip install -e .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    SCRIBE_ENV=production SCRIBE_HOST=0.0.0.0 SCRIBE_PORT=8000
RUN groupadd --system --gid 10001 scribe && useradd --system --uid 10001 --gid scribe --home-dir /app scribe
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4)"]
CMD ["scribe", "serve"]

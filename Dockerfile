# syntax=docker/dockerfile:1
# boxoffice: the API (`boxoffice serve`), and with another command the worker or the migrations.
# Build: docker build -t boxoffice .   Run: see compose.yaml and docs/deployment.md.

# Stage 1: wheels for the locked dependencies and for boxoffice itself, built from uv.lock.
FROM python:3.12-slim-bookworm AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.8 /uv /usr/local/bin/uv
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
COPY src ./src
RUN uv export --locked --no-dev --no-emit-project --format requirements-txt --output-file requirements.txt \
    && python -m pip wheel --no-cache-dir --no-deps --require-hashes --requirement requirements.txt \
       --wheel-dir /wheels \
    && uv build --wheel --out-dir /wheels

# Stage 2: the runtime: only the wheels, installed into a virtual environment, run as a plain user.
FROM python:3.12-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/boxoffice/bin:$PATH \
    BOXOFFICE_LOG_FORMAT=json
RUN useradd --system --uid 10001 --home-dir /var/lib/boxoffice --create-home boxoffice
COPY --from=build /wheels /wheels
RUN python -m venv /opt/boxoffice \
    && /opt/boxoffice/bin/pip install --no-cache-dir --no-index --find-links /wheels /wheels/boxoffice-*.whl \
    && rm -rf /wheels
USER 10001
WORKDIR /var/lib/boxoffice
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
ENTRYPOINT ["boxoffice"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--no-migrate"]

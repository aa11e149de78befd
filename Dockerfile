# cx-pulse: one image for every process; the command picks it (`serve`, `scheduler`, `migrate`,
# `doctor`, ...). See README.md, "Docker" and "Kubernetes". Linted by hadolint in `make lint`.
#
# The base image is pinned to a full Python release on one Debian release, in both stages (the
# venv is built against the builder's interpreter and runs on the runtime's: they must match).
# To pin the exact bytes as well, append the digest: python:3.11.13-slim-bookworm@sha256:...
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# --- builder: the project and its runtime dependencies (no dev extras) in a venv -------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Every dependency ships manylinux wheels for CPython 3.11, so no compiler is needed.
RUN python -m venv /opt/venv

WORKDIR /src
# What the wheel is built from: the package, plus prompts/ and manifest.yml, which bot/_data
# links to (pyproject's package-data ships them inside the package).
COPY pyproject.toml README.md manifest.yml ./
COPY prompts ./prompts
COPY bot ./bot
# Not editable: the image runs the installed package, never this source tree.
RUN /opt/venv/bin/pip install --no-cache-dir . \
    && /opt/venv/bin/cxpulse --help >/dev/null

# --- runtime: the venv on a clean slim image, as an unprivileged user ------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="cx-pulse" \
      org.opencontainers.image.description="Self-hosted Slack bot that measures customer-experience culture with weekly pulses and honest leadership digests." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="0.1.0"

# A fixed UID/GID, so volumes and Kubernetes' runAsUser / runAsNonRoot can name it.
RUN groupadd --system --gid 10001 cxpulse \
    && useradd --system --no-log-init --uid 10001 --gid cxpulse \
        --home-dir /app --shell /usr/sbin/nologin cxpulse \
    && install -d -o cxpulse -g cxpulse -m 0750 /app

COPY --from=builder /opt/venv /opt/venv

# PYTHONDONTWRITEBYTECODE: pip compiled the venv's .pyc at build time; nothing else is
# written at run time (the venv is root's, read-only to the app). Matplotlib's cache goes to
# /tmp (an emptyDir under a read-only root filesystem).
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    PORT=3000

WORKDIR /app
USER 10001:10001

EXPOSE 3000

# No curl in a slim image: Python's urllib. A non-2xx answer (503 when the database is down)
# or no answer raises, and the exit status is 1. Only `serve` listens: the scheduler's
# container overrides this (compose.yaml, and the Kubernetes sketch in README.md).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"]

ENTRYPOINT ["cxpulse"]
CMD ["serve"]

# A slim image that runs `eocic-desk run` as a non-root user, with its data in a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    EOCIC_DATA_DIR=/data \
    EOCIC_HTTP_HOST=0.0.0.0 \
    EOCIC_HTTP_PORT=8080

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY models ./models
COPY templates ./templates
COPY config ./config
COPY migrations ./migrations
RUN pip install . \
    && useradd --system --create-home --uid 10001 desk \
    && mkdir -p /data && chown desk /data

USER desk
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=60s --timeout=5s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)" || exit 1
ENTRYPOINT ["eocic-desk"]
CMD ["run"]

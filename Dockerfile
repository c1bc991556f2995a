# A slim image that runs `eocic-desk run` as a non-root user, with its data (database, retrained
# classifier model) in the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    EOCIC_DATA_DIR=/data \
    EOCIC_CLASSIFIER_MODEL=/data/classifier/model.pkl.gz \
    EOCIC_HTTP_HOST=0.0.0.0 \
    EOCIC_HTTP_PORT=8080

WORKDIR /app
# Dependencies first, in a layer of their own: a change to the source does not reinstall them.
# /data and /data/classifier belong to the desk user, so that a new volume mounted on either does too.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && useradd --system --create-home --uid 10001 desk \
    && mkdir -p /data/classifier && chown -R desk /data

COPY README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY models ./models
COPY templates ./templates
COPY config ./config
COPY migrations ./migrations
RUN pip install --no-deps .

USER desk
VOLUME ["/data"]
EXPOSE 8080
# Shell form, so that the port is the one configured when the container runs.
HEALTHCHECK --interval=60s --timeout=5s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${EOCIC_HTTP_PORT:-8080}/healthz', timeout=4)" || exit 1
ENTRYPOINT ["eocic-desk"]
CMD ["run"]

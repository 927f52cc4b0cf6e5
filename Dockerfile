# The image compose.yaml builds: the app and its dependencies, `mtasts serve` by default.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir . && useradd --system --home /app mtasts \
    && mkdir /data && chown mtasts /data
# The default SQLite database (one instance, nothing else to run) lives in /data: mount a
# volume there to keep it; several instances set MTASTS_DATABASE_URL to PostgreSQL instead.
ENV MTASTS_DATA_DIR=/data
VOLUME /data
USER mtasts
EXPOSE 3000
CMD ["mtasts", "serve"]

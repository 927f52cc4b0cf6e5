# The image compose.yaml builds: the app and its dependencies, `mtasts serve` by default.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir . && useradd --system --home /app mtasts
USER mtasts
EXPOSE 3000
CMD ["mtasts", "serve"]

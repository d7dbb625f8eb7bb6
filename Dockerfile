# Single container: Azera on one port (production build), data in a volume.
#   docker build -t azera .
#   docker run -p 3000:3000 -v azera-data:/app/data azera
FROM python:3.11-slim-bookworm

# npm only fetches bun (Reflex's frontend builder) from the npm registry; curl/unzip for Reflex;
# festival (with a female US voice) and espeak-ng are the optional voices beside Piper.
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm curl unzip build-essential cmake \
    festival festvox-us-slt-hts espeak-ng \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . .
RUN bash scripts/setup.sh

ENV AZERA_HOST=0.0.0.0 \
    AZERA_ALLOW_REMOTE=true \
    AZERA_DATA_DIR=/app/data \
    AZERA_FRONTEND_PORT=3000
VOLUME ["/app/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s CMD curl -fsS http://127.0.0.1:3000/health || exit 1
CMD [".venv/bin/python", "-m", "azera", "run"]

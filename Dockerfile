# The bot as a small, non-root image.
#
#   docker build -t dieuphoi .
#   docker run -p 8080:8080 -v dieuphoi-data:/data dieuphoi
#
# Without DATABASE_URL/REDIS_URL it keeps everything in SQLite under /data;
# docker-compose.yml runs it on PostgreSQL and Redis instead. The example
# campaign is built into the binary; to run a real one, mount its directory
# and point DIEUPHOI_CONFIG_DIR at it (a copy of the example is in
# /configs/example as a template).

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Dependencies first: this layer is reused until go.mod/go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Pure Go (SQLite is modernc.org/sqlite), so a static binary.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/dieuphoi ./cmd/dieuphoi \
	&& mkdir -p /out/data

# Debian slim rather than distroless: evidence reading runs poppler-utils
# and Tesseract with its Vietnamese model (the bot's only native
# dependencies; without them it says so at start-up and skips reading).
# uid/gid 65532 as distroless's nonroot; CA certificates for the Telegram
# API over HTTPS; tzdata for the campaign's time zone.
FROM debian:bookworm-slim
RUN apt-get update \
	&& apt-get install -y --no-install-recommends ca-certificates tzdata \
		poppler-utils tesseract-ocr tesseract-ocr-vie \
	&& rm -rf /var/lib/apt/lists/* \
	&& groupadd -g 65532 nonroot && useradd -u 65532 -g 65532 -M -d /nonexistent -s /usr/sbin/nologin nonroot
COPY --from=build /out/dieuphoi /dieuphoi
COPY --from=build /src/configs/example /configs/example
# Owned by nonroot so that a fresh named volume on /data is writable.
COPY --from=build --chown=65532:65532 /out/data /data
ENV DIEUPHOI_DATA_DIR=/data \
	DIEUPHOI_ADDR=0.0.0.0:8080
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/dieuphoi"]

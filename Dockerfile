# syntax=docker/dockerfile:1
# livemod in a container: a static binary (CGO_ENABLED=0) on distroless/static,
# running as the image's non-root user. Build:
#   docker build -t livemod .
# Run one node (tokens are required off loopback; see deploy/README.md):
#   docker run -p 8080:8080 -e LIVEMOD_TOKENS=admin=CHANGE-ME-admin livemod
# Two nodes with Redis, Prometheus and Grafana: deploy/compose.yaml.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/livemod ./cmd/livemod \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
# nonroot is uid/gid 65532; the data directory (bbolt) belongs to it, so a
# named volume mounted there starts with that owner.
COPY --from=build /out/livemod /usr/local/bin/livemod
COPY --from=build --chown=65532:65532 /out/data /var/lib/livemod
USER 65532:65532
VOLUME ["/var/lib/livemod"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/livemod", "serve"]
# Every interface of the container (which needs tokens: LIVEMOD_TOKENS or
# auth.tokens) and the data volume. Flags, not environment, so that a
# command with --config (compose.yaml) takes both from its file instead.
CMD ["--listen", "0.0.0.0:8080", "--data", "/var/lib/livemod"]

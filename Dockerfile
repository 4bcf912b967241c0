# Plaza's container image: one static binary on distroless, run as an
# unprivileged user. The web client is embedded (internal/webui/dist is
# committed), so no Node step is needed.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t plaza .
#   docker run -p 8080:8080 -v plaza-data:/data plaza
#
# Settings are plaza serve's flags, as arguments after the image name or as
# PLAZA_<FLAG> variables (docs/operations.md).

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first: a change to the source alone does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# Pure Go (the SQLite driver included), so the binary needs no libc.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/plaza ./cmd/plaza
# The final image has no shell to create the data directory: make it here,
# owned by the user that runs the server.
RUN mkdir -p /out/data && chown 65532:65532 /out/data && chmod 0700 /out/data

# static-debian12 brings CA certificates (S3, SMS gateways over HTTPS) and
# time zone data (--time-zone); its nonroot user is 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/plaza /usr/local/bin/plaza
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV PLAZA_LISTEN=:8080 \
    PLAZA_DATA=/data
VOLUME /data
EXPOSE 8080
# plaza healthcheck asks /livez on the port PLAZA_LISTEN names; no shell
# or curl needed. /livez fails only when the process no longer serves HTTP:
# Docker Swarm, ECS and the like replace an unhealthy container, and a
# check on /readyz would replace every replica during a database outage or
# a drain, which a restart does not help. Keeping traffic away from a pod
# that is not ready is the load balancer's job, on /readyz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/plaza", "healthcheck", "--path=/livez"]
ENTRYPOINT ["/usr/local/bin/plaza"]
CMD ["serve"]

# idicbot in a container: a static binary on distroless (CA certificates,
# time-zone data, a non-root user, nothing else). See docs/operations.md.
#   docker build --build-arg VERSION=$(git describe --tags --always) -t idicbot .
#   docker run -d -p 8080:8080 -v idicbot-data:/data -e TELEGRAM_BOT_TOKEN_FILE=/run/secrets/tg idicbot

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/idicbot ./cmd/idicbot \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/idicbot /usr/local/bin/idicbot
# The data directory belongs to the image's non-root user (65532).
COPY --from=build --chown=65532:65532 /out/data /data
ENV IDICBOT_ADDR=0.0.0.0:8080 IDICBOT_DATA=/data TZ=Asia/Ho_Chi_Minh
VOLUME /data
EXPOSE 8080
USER 65532:65532
# idicbot serve --check asks /readyz of the bot in this container.
HEALTHCHECK --interval=30s --timeout=5s --start-period=2m --retries=3 CMD ["/usr/local/bin/idicbot", "serve", "--check"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/idicbot"]
CMD ["serve"]

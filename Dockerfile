# The release artefact of docs/install.md ("Build the image"), in a distroless image that runs
# as the nonroot user (65532) the manifests and the chart require. glibc build on Debian 12,
# run on distroless's Debian 12 (same glibc, CA certificates for the vault probes, no shell).
FROM docker.io/library/rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin backupscope

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/backupscope /usr/local/bin/backupscope
USER 65532:65532
EXPOSE 9731
ENTRYPOINT ["/usr/local/bin/backupscope"]
CMD ["serve"]

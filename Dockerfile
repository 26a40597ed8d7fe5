# em-sim as a container image: the full EM API with pods, builds and files, for CI service
# containers, the Testcontainers module (modules/testcontainers/) and the pytest plugin (clients/python/).
#
#   docker build -t em-sim .                 # where a registry answers (node:20-bookworm-slim)
#   bash scripts/build-image.sh              # anywhere: offline from this machine's Node.js when none does
#   docker run -d -v /var/run/docker.sock:/var/run/docker.sock -p 8000:8000 em-sim
#
# Pods are the container's siblings on the host's engine. em-sim finds its own container through
# the socket and hands the engine the host side of its data volume (src/adapters/docker/
# self-container.ts), so no path needs to match between host and container.
ARG NODE_IMAGE=node:20-bookworm-slim
FROM ${NODE_IMAGE}

WORKDIR /app
# node_modules.tar is there only in scripts/build-image.sh's offline context: the production
# modules already installed on the build machine (ADD unpacks it). A plain `docker build` has no
# such file and installs them from the npm registry, with compilers only if no prebuilt
# better-sqlite3 binary downloads.
ADD package.json package-lock.json node_modules.tar* /app/
RUN if [ ! -d node_modules ]; then \
      npm ci --omit=dev --no-audit --no-fund || { \
        apt-get update && apt-get install -y --no-install-recommends python3 make g++ && \
        npm ci --omit=dev --no-audit --no-fund && \
        apt-get purge -y python3 make g++ && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*; }; \
      npm cache clean --force; \
    fi
COPY bin /app/bin
COPY src /app/src
COPY ui /app/ui
COPY scripts/bundle.mjs /app/scripts/bundle.mjs
COPY docker/entrypoint.sh /app/docker/entrypoint.sh
# The sources bundled into one script (esbuild): em-sim starts without compiling TypeScript; and
# the dashboard (ui/) bundled for the browser into dist/ui/, served at /ui. Then V8's compiled
# code for the bundle, kept by one short start (bin/em-sim.js writes it 2 s in) so that the
# container's starts skip compiling it (/app stays read-only to em-sim). Then the user em-sim runs
# as (uid 1000: node's own user in the official image), its data volume and the folder a
# sim-config.yaml may be mounted into; and a check that it starts.
RUN node /app/scripts/bundle.mjs && \
    { EM_SIM_DATA_DIR=/tmp/em-sim-warm timeout -k 10 -s INT 5 node /app/bin/em-sim.js start --host 127.0.0.1 --port 0 >/dev/null || true; } && \
    rm -rf /tmp/em-sim-warm && ls /app/dist/.v8-cache/*.bin >/dev/null && \
    mkdir -p /var/lib/em-sim /etc/em-sim && chown 1000:1000 /var/lib/em-sim && \
    chmod 1777 /tmp && /usr/bin/setpriv --reuid=1000 --regid=1000 --clear-groups node /app/bin/em-sim.js --version

ENV NODE_ENV=production \
    EM_SIM_IN_CONTAINER=1 \
    EM_SIM_HOST=0.0.0.0 \
    EM_SIM_PORT=8000 \
    EM_SIM_DATA_DIR=/var/lib/em-sim
VOLUME /var/lib/em-sim
# A mounted /etc/em-sim/sim-config.yaml is read (em-sim reads ./sim-config.yaml); EM_SIM_* win over it.
WORKDIR /etc/em-sim
EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.EM_SIM_PORT+'/sim/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
LABEL org.opencontainers.image.title="em-sim" \
      org.opencontainers.image.description="Local simulator of the ClusterGate-2 Engineering Model API" \
      org.opencontainers.image.licenses="MIT"
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["start"]

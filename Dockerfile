# The pintrace CLI (agent, collector, ui-proxy, demo) for docker-compose.yml.

# The Zipkin UI (Lens) ships only inside zipkin-server's exec jar; the ui-proxy extracts it at start.
FROM maven:3.9-eclipse-temurin-17 AS lens
RUN mvn -q -B dependency:copy -Dartifact=io.zipkin:zipkin-server:3.6.1:jar:exec -DoutputDirectory=/lens

FROM node:24-bookworm-slim AS build
WORKDIR /app
# The agent's producer (librdkafka via @confluentinc/kafka-javascript) is compiled from the sources
# in its npm package, linked dynamically against Debian's zlib and OpenSSL (scripts/setup.mjs).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends g++ make python3 zlib1g-dev libssl-dev && rm -rf /var/lib/apt/lists/*
# npm_config_nodedir: node-gyp builds against the headers the image's Node carries, the same
# way scripts/setup.mjs does, instead of downloading them from nodejs.org.
ENV CKJS_LINKING=dynamic npm_config_nodedir=/usr/local
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY model model
COPY runtime runtime
COPY kafka kafka
COPY storage storage
COPY sampler sampler
COPY tracer tracer
COPY logger-agent logger-agent
COPY collector collector
COPY ui-proxy ui-proxy
COPY devstack devstack
COPY demo demo
COPY cli cli
RUN npm install --no-audit --no-fund && npx tsc -b && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
COPY --from=build /app /app
COPY --from=lens /lens /opt/zipkin
ENV PINTRACE_SPANS_DIR=/spans
ENTRYPOINT ["node", "cli/bin/pintrace.js"]

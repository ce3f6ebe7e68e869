# One image for every Vigil service; the command picks the service (`vigil <service>`).
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# The production install (scripts/install-production.sh): npm ci --omit=dev from the lockfile,
# then patch-package applies patches/ to neo4j-driver. Only these files, so the layer is reused
# until the lockfile or a patch changes.
COPY package.json package-lock.json ./
COPY patches ./patches
COPY scripts/install-production.sh ./scripts/
RUN sh scripts/install-production.sh && npm cache clean --force
# The sources; .dockerignore leaves out the dev-only code (dev/, test/, bench/), which needs the
# devDependencies and no service imports.
COPY . .
USER node
ENTRYPOINT ["node", "--import", "tsx", "bin/vigil.ts"]

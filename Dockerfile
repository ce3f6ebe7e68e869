# One image for every Vigil service; the command picks the service (`vigil <service>`).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && (npm rebuild msgpackr-extract || true)
COPY . .
# patches/: small fixes to dependencies (TCP_NODELAY on Neo4j Bolt sockets); see README.
RUN npx patch-package
ENTRYPOINT ["node", "--import", "tsx", "bin/vigil.ts"]

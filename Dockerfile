# One image for every Vigil service; the command picks the service (`vigil <service>`).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm rebuild msgpackr-extract || true
COPY . .
ENTRYPOINT ["node", "--import", "tsx", "bin/vigil.ts"]

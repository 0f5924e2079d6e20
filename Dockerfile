# syntax=docker/dockerfile:1
# Multi-stage: the first stage installs everything and type-checks; the runtime stage carries only
# production dependencies and the sources (Node 24 runs TypeScript directly), as a non-root user.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run typecheck

FROM node:24-slim AS runtime
ENV APP_ENV=prod NODE_ENV=production PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/src ./src
COPY --from=build /app/migrations ./migrations
COPY --from=build /app/.gmrc ./.gmrc
# Uploaded images live under .data/images unless IMAGE_UPLOAD_PATH points at a volume.
RUN mkdir -p /app/.data/images && chown -R node:node /app/.data
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["npm", "run", "server"]

# LeadNest image: one image for both processes.
#   API (default): node dist/src/main.js     (ROLE=api, or ROLE=all for API + worker in one process)
#   worker:        node dist/src/worker.js
# It expects DATABASE_URL and JWT_SECRET (NODE_ENV=production requires it); see docker-compose.yml.

# ---- build: install everything, compile, then drop dev dependencies
FROM node:20-bookworm-slim AS build
WORKDIR /app
# swagger-ui-dist pulls in @scarf/scarf, whose install script reports installs over the network.
ENV SCARF_ANALYTICS=false
# Lockfile first: the dependency layer is reused until package*.json change.
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

# ---- runtime: production dependencies and compiled output only
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# package.json is needed at run time: its "type": "module" makes dist/*.js ES modules.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/migrations ./dist/migrations
# Without DATABASE_URL the app falls back to the embedded PostgreSQL under ./.data/, which the
# non-root user must be able to create; mount a volume there if you ever rely on it.
RUN mkdir -p .data && chown node:node .data
USER node
EXPOSE 3000
# Node's own fetch: the slim image has no curl. Ready = database and job queue answer.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/main.js"]

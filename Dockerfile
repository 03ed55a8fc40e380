# codegen-pr: the daemon (and the Task API) as a container.
# Build: docker build -t codegen-pr .   Run: docker run --env-file .env -p 9464:9464 codegen-pr
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
# The embedded PGlite store (used only when neither CLOUDFLARE_API_URL nor DATABASE_URL is set) lives here.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/src/main.js"]
CMD ["run"]

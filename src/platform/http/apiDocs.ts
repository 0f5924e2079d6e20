/**
 * GET /openapi.json (the document, built once at start) and Swagger UI at /swagger-ui, whose assets
 * come from the swagger-ui-dist package on this server (no CDN): only the files the page loads. The
 * page has no inline script: its initializer is a file of its own, so it works under a
 * Content-Security-Policy of 'self' too.
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import express, { type Router } from "express";
import type { OpenApiDocument } from "./openapi.ts";
import { getOpenApi } from "./platformApi.ts";
import { caseSensitiveRouter } from "./routeTable.ts";
import { implement, type Implementation } from "./routeSpec.ts";

export const SWAGGER_UI_PATH = "/swagger-ui";

export function openApiImplementation(document: OpenApiDocument): Implementation {
  return implement(getOpenApi, () => ({ status: 200, body: document }));
}

const PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>Tessera REST API</title>
    <link rel="stylesheet" type="text/css" href="${SWAGGER_UI_PATH}/swagger-ui.css">
    <link rel="icon" type="image/png" href="${SWAGGER_UI_PATH}/favicon-32x32.png" sizes="32x32">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${SWAGGER_UI_PATH}/swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="${SWAGGER_UI_PATH}/swagger-initializer.js" charset="UTF-8"></script>
  </body>
</html>
`;

const PAGE_ASSETS = new Set(["/swagger-ui.css", "/swagger-ui-bundle.js", "/favicon-32x32.png"]);

// validatorUrl null: the page never asks validator.swagger.io (nothing leaves the server).
const INITIALIZER = `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
`;

/** The page (at /swagger-ui, /swagger-ui/ and its index.html), its initializer and the package's assets. */
export function swaggerUiRouter(): Router {
  const assets = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const router = caseSensitiveRouter();
  const page: express.RequestHandler = (_req, res) => {
    res.type("html").setHeader("Cache-Control", "no-cache");
    res.send(PAGE);
  };
  router.get([SWAGGER_UI_PATH, `${SWAGGER_UI_PATH}/`, `${SWAGGER_UI_PATH}/index.html`], page);
  // The package's own initializer would load the Petstore example: ours replaces it.
  router.get(`${SWAGGER_UI_PATH}/swagger-initializer.js`, (_req, res) => {
    res.type("js").setHeader("Cache-Control", "no-cache");
    res.send(INITIALIZER);
  });
  // The files the page loads, and no other file of the package (its package.json, README, ...).
  const files = express.static(assets, { index: false, maxAge: "1d", fallthrough: true });
  router.use(SWAGGER_UI_PATH, (req, res, next) => (PAGE_ASSETS.has(req.path) ? files(req, res, next) : next()));
  return router;
}

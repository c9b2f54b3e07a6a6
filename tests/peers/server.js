// json-server 0.17 used as a module, plus what a plain json-server cannot do:
// authentication, an OAuth2 token endpoint, cursor paging, chosen status codes
// and PUT-creates. Started by integrations/tests/adapters/peers.py:
//
//   node tests/peers/server.js DB_JSON_PATH
//
// It listens on a free loopback port and prints {"port": N} on its first line.
"use strict";

const crypto = require("crypto");
const jsonServer = require("json-server");

const BEARER_TOKEN = "test-bearer-token";
const API_KEY = "test-api-key";
const BASIC_USER = "alice";
const BASIC_PASSWORD = "wonderland";
const CLIENT_ID = "junction";
const CLIENT_SECRET = "client-secret";

const dbPath = process.argv[2];
const router = jsonServer.router(dbPath);
const seed = JSON.parse(JSON.stringify(router.db.getState()));
const state = { tokens: new Map(), tokenLifetime: 3600, tokenRequests: 0 };

const app = jsonServer.create();
app.use(jsonServer.bodyParser);

// --- Test control: reset data and counters, revoke tokens, read counters.
app.get("/_control", (req, res) => res.json({ tokenRequests: state.tokenRequests, tokens: state.tokens.size }));
app.post("/_control", (req, res) => {
  if (req.body.reset) {
    router.db.setState(JSON.parse(JSON.stringify(seed))).write();
    Object.assign(state, { tokenLifetime: 3600, tokenRequests: 0 });
    state.tokens.clear();
  }
  if (req.body.revoke) state.tokens.clear();
  if (req.body.tokenLifetime) state.tokenLifetime = req.body.tokenLifetime;
  res.json({ ok: true });
});

// --- Any status, Retry-After and body: /status/429?retry_after=7&message=…
app.all("/status/:code", (req, res) => {
  if (req.query.retry_after) res.set("Retry-After", req.query.retry_after);
  res.status(Number(req.params.code)).type("application/json");
  res.send(req.query.body !== undefined ? req.query.body : JSON.stringify({ message: req.query.message || "" }));
});

// --- OAuth2 client credentials (RFC 6749 §4.4), client auth by Basic or body.
app.post("/token", (req, res) => {
  state.tokenRequests += 1;
  let [id, secret] = [req.body.client_id, req.body.client_secret];
  const basic = /^Basic (.+)$/.exec(req.get("Authorization") || "");
  if (basic) [id, secret] = Buffer.from(basic[1], "base64").toString().split(":");
  if (req.body.grant_type !== "client_credentials") return res.status(400).json({ error: "unsupported_grant_type" });
  if (id !== CLIENT_ID || secret !== CLIENT_SECRET) {
    return res.status(401).json({ error: "invalid_client", error_description: "Client authentication failed" });
  }
  const token = crypto.randomBytes(16).toString("hex");
  state.tokens.set(token, Date.now() + state.tokenLifetime * 1000);
  res.json({ access_token: token, token_type: "Bearer", expires_in: state.tokenLifetime, scope: req.body.scope });
});

function guard(check) {
  return (req, res, next) => (check(req) ? next() : res.status(401).json({ message: "Invalid or missing credentials" }));
}
const bearer = (req) => (/^Bearer (.+)$/.exec(req.get("Authorization") || "") || [])[1];
const basicOk = (req) => req.get("Authorization") === "Basic " + Buffer.from(`${BASIC_USER}:${BASIC_PASSWORD}`).toString("base64");
const oauthOk = (req) => (state.tokens.get(bearer(req)) || 0) > Date.now();

// --- Cursor paging: {"data": [...], "meta": {"next": "<opaque>" | null}}.
app.get("/cursor/:resource", (req, res) => {
  const rows = router.db.get(req.params.resource).value();
  if (!rows) return res.status(404).json({ message: `No such resource: ${req.params.resource}` });
  const start = req.query.cursor ? Number(Buffer.from(req.query.cursor, "base64url").toString()) : 0;
  const limit = Number(req.query.limit) || 10;
  const end = start + limit;
  const next = end < rows.length ? Buffer.from(String(end)).toString("base64url") : null;
  res.json({ data: rows.slice(start, end), meta: { next } });
});

// --- Under /upsert, PUT to a missing id creates it (RFC 9110 §9.3.4), so upserts by key work.
function putCreates(req, res, next) {
  const [, name, id] = /^\/([^/]+)\/([^/]+)$/.exec(req.path) || [];
  const rows = name && router.db.get(name);
  if (req.method !== "PUT" || !rows || !rows.value() || rows.getById(id).value()) return next();
  res.status(201).json(rows.insert({ ...req.body, id }).write());
}

// --- A validation rule, so a 422 carries a message: "name" must not be blank.
app.use((req, res, next) => {
  if (["POST", "PUT", "PATCH"].includes(req.method) && req.body.name === "") {
    return res.status(422).json({ message: "Validation failed: name must not be blank" });
  }
  next();
});

app.use("/bearer", guard((req) => bearer(req) === BEARER_TOKEN), router);
app.use("/apikey-header", guard((req) => req.get("X-API-Key") === API_KEY), router);
app.use("/apikey-query", guard((req) => req.query.api_key === API_KEY), router);
app.use("/basic", guard(basicOk), router);
app.use("/oauth", guard(oauthOk), router);
app.use("/upsert", putCreates, router);
app.use(router);

const server = app.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { DEFAULT_CONFIG } from "../../../src/config/defaults.js";
import { validateConfig } from "../../../src/config/load.js";

interface SchemaNode {
  type?: string;
  default?: unknown;
  description?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  required?: string[];
}

const schema = JSON.parse(
  readFileSync(new URL("../../../schemas/config.schema.json", import.meta.url), "utf8"),
) as SchemaNode;

/** keys the Config type declares optional (no default on purpose) */
const OPTIONAL = new Set(["/db_url", "/mi_http/auth", "/events/websocket/token", "/$schema"]);

function walk(node: SchemaNode, at: string, visit: (pointer: string, node: SchemaNode) => void): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    visit(`${at}/${key}`, child);
    walk(child, `${at}/${key}`, visit);
  }
  if (typeof node.additionalProperties === "object") walk(node.additionalProperties, `${at}/*`, visit);
  if (node.items) walk(node.items, `${at}/[]`, visit);
}

describe("schemas/config.schema.json", () => {
  it("fills exactly the built-in defaults into an empty config", () => {
    assert.deepEqual(validateConfig({}).config, DEFAULT_CONFIG);
    assert.deepEqual(validateConfig({}).warnings, []);
  });

  it("describes every key", () => {
    const missing: string[] = [];
    walk(schema, "", (pointer, node) => {
      if (!node.description && !/\/auth\/(username|password)$/.test(pointer)) missing.push(pointer);
    });
    assert.deepEqual(missing, []);
  });

  it("gives a default to every top-level and interface key except the optional ones", () => {
    const noDefault: string[] = [];
    walk(schema, "", (pointer, node) => {
      if (pointer.includes("*") || pointer.includes("[]") || OPTIONAL.has(pointer)) return;
      if (/^\/mi_http\/auth\//.test(pointer)) return;
      if (node.default === undefined) noDefault.push(pointer);
    });
    assert.deepEqual(noDefault, []);
  });

  it("has a schema key for every key of DEFAULT_CONFIG and nothing the Config type lacks", () => {
    const schemaKeys = new Set<string>();
    walk(schema, "", (pointer) => schemaKeys.add(pointer));
    const configKeys: string[] = [];
    const collect = (value: unknown, at: string): void => {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return;
      for (const [k, v] of Object.entries(value)) {
        configKeys.push(`${at}/${k}`);
        if (at === "" && k === "tls") continue;
        collect(v, `${at}/${k}`);
      }
    };
    collect(DEFAULT_CONFIG, "");
    for (const key of configKeys) assert.ok(schemaKeys.has(key), `schema lacks ${key}`);
    const extra = [...schemaKeys].filter(
      (k) =>
        !k.includes("*") && !k.includes("[]") && !OPTIONAL.has(k) && !/\/auth\//.test(k) && !configKeys.includes(k),
    );
    assert.deepEqual(extra, []);
  });

  it("is documented key by key in docs/configuration.md", () => {
    const doc = readFileSync(new URL("../../../docs/configuration.md", import.meta.url), "utf8");
    const undocumented: string[] = [];
    walk(schema, "", (pointer, node) => {
      if (
        pointer.includes("*") ||
        pointer.includes("[]") ||
        pointer === "/$schema" ||
        pointer.startsWith("/mi_http/auth/")
      )
        return;
      if (node.properties && pointer !== "/mi_http/auth") return;
      const key = pointer.slice(1).replace(/\//g, ".");
      if (!doc.includes(`| \`${key}\` |`)) undocumented.push(key);
    });
    assert.deepEqual(undocumented, []);
  });

  it("keeps OpenSIPS's modparam defaults (reference §1.5, §2, §6.4)", () => {
    const c = DEFAULT_CONFIG;
    assert.equal(c.hash_size, 1);
    assert.equal(c.timer_interval, 100);
    assert.equal(c.failure_retry_interval, 0);
    assert.equal(c.reregister_expiry_percentage, 100);
    assert.equal(c.default_expires, 3600);
    assert.equal(c.enable_clustering, 0);
    assert.equal(c.table_name, "registrant");
    assert.equal(c.binding_URI_column, "binding_URI");
    assert.equal(c.state_column, "state");
    assert.deepEqual(c.tm, { fr_timeout: 30, t1: 500, t2: 4000 });
    assert.deepEqual(c.mi_http, { enabled: true, ip: "127.0.0.1", port: 8888, root: "mi" });
    assert.equal(c.mi_fifo.fifo_name, "/tmp/opensips_fifo");
    assert.equal(c.db_url, undefined);
    assert.deepEqual(c.listen, ["udp:127.0.0.1:5060"]);
  });
});

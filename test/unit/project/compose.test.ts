import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { validateConfig } from "../../../src/config/load.js";
import { parseRabbitmqSocket } from "../../../src/events/rabbitmq-socket.js";
import { parseYamlSubset } from "./yaml-subset.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const COMPOSE = `${ROOT}compose.yaml`;

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  configs?: { source: string; target: string }[];
  depends_on?: Record<string, { condition: string }>;
  networks?: Record<string, { ipv4_address?: string } | null>;
  stop_signal?: string;
}
interface Compose {
  services: Record<string, Service>;
  configs: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
  networks: Record<string, unknown>;
}

const text = readFileSync(COMPOSE, "utf8");
const compose = parseYamlSubset(text) as Compose;
const service = (name: string): Service => {
  const s = compose.services[name];
  assert.ok(s, `service ${name}`);
  return s;
};
const hostPath = (relative: string): string => `${ROOT}${relative.replace(/^\.\//, "")}`;

describe("compose.yaml", () => {
  it("reads the same with python3's yaml module, when this machine has it", () => {
    const py = spawnSync(
      "python3",
      ["-c", "import sys, json, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", COMPOSE],
      {
        encoding: "utf8",
      },
    );
    // no python3 or no PyYAML: our reader's result above is the only check
    if (py.status === 0) assert.deepEqual(JSON.parse(py.stdout), compose);
  });

  it("runs MariaDB, RabbitMQ and registrantd, and nothing refers to a service that does not exist", () => {
    for (const name of ["mariadb", "rabbitmq", "registrantd"]) assert.ok(compose.services[name], name);
    for (const [name, s] of Object.entries(compose.services)) {
      assert.ok(s.image, `${name} has an image (no Dockerfile in this repository)`);
      assert.equal(s.build, undefined, `${name}: no build context`);
      for (const dep of Object.keys(s.depends_on ?? {})) assert.ok(compose.services[dep], `${name} depends on ${dep}`);
      for (const net of Object.keys(s.networks ?? {})) assert.ok(net in compose.networks, `${name} network ${net}`);
    }
  });

  it("loads OpenSIPS's registrant schema into MariaDB from a file that exists", () => {
    const mounts = service("mariadb").volumes ?? [];
    const init = mounts.find((v) => v.includes(":/docker-entrypoint-initdb.d/"));
    assert.ok(init, "a docker-entrypoint-initdb.d mount");
    const [source = ""] = init.split(":");
    assert.equal(source, "./schemas/sql/mysql-registrant.sql");
    assert.ok(existsSync(hostPath(source)), source);
    assert.match(readFileSync(hostPath(source), "utf8"), /CREATE TABLE registrant/);
  });

  it("starts registrantd from this checkout with a config that validates against the schema", () => {
    const s = service("registrantd");
    assert.ok(s.volumes?.includes("./:/app"), "the repository is mounted at /app");
    const mounted = s.configs?.[0];
    assert.ok(mounted);
    const file = compose.configs[mounted.source]?.file;
    assert.ok(file && existsSync(hostPath(file)), `config file ${file}`);
    const command = (s.command ?? []).join(" ");
    assert.match(command, /npm ci/);
    assert.ok(command.includes(`node dist/main.js --config ${mounted.target}`), command);
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as { scripts: Record<string, string> };
    assert.match(pkg.scripts["prepare"] ?? "", /tsc/, "npm ci builds dist/ through the prepare script");
    assert.equal(s.stop_signal, "SIGTERM");
    assert.equal(s.depends_on?.["mariadb"]?.condition, "service_healthy");
  });

  it("points that config at the compose services, with their credentials, and publishes its ports", () => {
    const s = service("registrantd");
    const file = compose.configs[s.configs?.[0]?.source ?? ""]?.file ?? "";
    const { config } = validateConfig(JSON.parse(readFileSync(hostPath(file), "utf8")));

    const env = service("mariadb").environment ?? {};
    assert.equal(
      config.db_url,
      `mysql://${env["MARIADB_USER"]}:${env["MARIADB_PASSWORD"]}@mariadb:3306/${env["MARIADB_DATABASE"]}`,
    );

    const mq = service("rabbitmq").environment ?? {};
    assert.ok(config.events.subscribe.length > 0);
    for (const sub of config.events.subscribe) {
      const parsed = parseRabbitmqSocket(sub.socket);
      assert.ok(parsed.ok, sub.socket);
      assert.equal(parsed.target.connection.hostname, "rabbitmq");
      assert.equal(parsed.target.connection.username, mq["RABBITMQ_DEFAULT_USER"]);
      assert.equal(parsed.target.connection.password, mq["RABBITMQ_DEFAULT_PASS"]);
      assert.ok(
        (service("rabbitmq-queue").command ?? []).includes(`name=${parsed.target.routingKey}`),
        "the queue the events go to is declared",
      );
    }

    const ip = Object.values(s.networks ?? {})[0]?.ipv4_address;
    assert.ok(ip);
    const ports = s.ports ?? [];
    for (const socket of config.listen) {
      const [proto, host, port] = socket.split(":");
      assert.equal(host, ip, `${socket} is registrantd's own address on the compose network`);
      assert.ok(ports.includes(`127.0.0.1:${port}:${port}/${proto === "tls" ? "tcp" : proto}`), `${socket} published`);
    }
    assert.equal(config.mi_http.ip, "0.0.0.0");
    assert.ok(ports.includes(`127.0.0.1:${config.mi_http.port}:${config.mi_http.port}`), "mi_http published");
    assert.ok(
      ports.includes(`127.0.0.1:${config.events.websocket.port}:${config.events.websocket.port}`),
      "events websocket published",
    );
  });

  it("publishes ports on loopback only", () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const port of s.ports ?? []) assert.match(port, /^127\.0\.0\.1:/, `${name} ${port}`);
    }
  });
});

describe("yaml-subset reader", () => {
  it("reads mappings, sequences, flow lists over several lines, quotes and comments", () => {
    assert.deepEqual(
      parseYamlSubset(
        [
          "a: 1 # one",
          "b:",
          "  - x",
          '  - "y # not a comment"',
          "  - k: v",
          "    l: [1, 2,",
          "      3,]",
          "c:",
          "  d: 'it''s'",
          "  e:",
          "f: true",
        ].join("\n"),
      ),
      { a: 1, b: ["x", "y # not a comment", { k: "v", l: [1, 2, 3] }], c: { d: "it's", e: null }, f: true },
    );
  });

  it("refuses YAML it does not understand", () => {
    assert.throws(() => parseYamlSubset("a: &anchor 1"), /unsupported YAML/);
    assert.throws(() => parseYamlSubset("a: |\n  text"), /unsupported YAML/);
    assert.throws(() => parseYamlSubset("a: 1\na: 2"), /duplicate key a/);
  });
});

import { Writable } from "node:stream";
import { pino } from "pino";
import type { Config } from "../../src/config/config.js";
import { columnLabeler } from "../../src/store/columns.js";
import type { TestDatabase } from "./mariadb.js";

/** Non-default table and column names (every one of them), for the stores' configured-names tests. */
export const CUSTOM_NAMES = {
  table_name: "sip_regs",
  registrar_column: "reg_uri",
  proxy_column: "outbound",
  aor_column: "to_uri",
  third_party_registrant_column: "from_uri",
  username_column: "auth_user",
  password_column: "auth_pass",
  binding_URI_column: "contact",
  binding_params_column: "contact_params",
  expiry_column: "expires",
  forced_socket_column: "sock",
  cluster_shtag_column: "shtag",
  state_column: "disabled",
} as const;

/** OpenSIPS's registrant DDL under `config`'s table and column names, plus its version row (3). */
export async function createRegistrantTable(db: TestDatabase, config: Config): Promise<void> {
  const col = columnLabeler(config);
  await db.query(`CREATE TABLE ${config.table_name} (
    id INT(10) UNSIGNED AUTO_INCREMENT PRIMARY KEY NOT NULL,
    ${col("registrar")} CHAR(255) DEFAULT '' NOT NULL, ${col("proxy")} CHAR(255) DEFAULT NULL,
    ${col("aor")} CHAR(255) DEFAULT '' NOT NULL, ${col("third_party_registrant")} CHAR(255) DEFAULT NULL,
    ${col("username")} CHAR(64) DEFAULT NULL, ${col("password")} CHAR(64) DEFAULT NULL,
    ${col("binding_URI")} CHAR(255) DEFAULT '' NOT NULL, ${col("binding_params")} CHAR(64) DEFAULT NULL,
    ${col("expiry")} INT(1) UNSIGNED DEFAULT NULL, ${col("forced_socket")} CHAR(64) DEFAULT NULL,
    ${col("cluster_shtag")} CHAR(64) DEFAULT NULL, ${col("state")} INT DEFAULT 0 NOT NULL
  ) ENGINE=InnoDB`);
  await db.query("INSERT INTO version (table_name, table_version) VALUES (?, 3)", [config.table_name]);
}

/** A pino logger writing JSON into memory; `lines()` parses what it has written so far. */
export function captureLogger(level = "debug"): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk.toString());
      cb();
    },
  });
  return {
    log: pino({ level }, sink),
    lines: () =>
      out
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

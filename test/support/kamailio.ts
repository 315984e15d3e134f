import { execFile } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.js";
import { killGroup, spawnGroup } from "./process-group.js";
import { until } from "./until.js";

const run = promisify(execFile);

/** A throwaway CA and a server certificate for 127.0.0.1 / localhost, made with openssl in `dir`. */
export interface TestPki {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export async function generateTestPki(dir: string): Promise<TestPki> {
  const p = (f: string) => join(dir, f);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run("openssl", [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.crt"),
    "-days",
    "2",
    "-subj",
    "/CN=registrantd test CA",
  ]);
  await run("openssl", ["req", ...ec, "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=127.0.0.1"]);
  await writeFile(p("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n");
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    p("server.csr"),
    "-CA",
    p("ca.crt"),
    "-CAkey",
    p("ca.key"),
    "-CAcreateserial",
    "-out",
    p("server.crt"),
    "-days",
    "2",
    "-extfile",
    p("ext.cnf"),
  ]);
  return { ca: p("ca.crt"), cert: p("server.crt"), key: p("server.key") };
}

export interface KamailioOptions {
  /** username → password; the realm is the To domain, qop=auth (as the golden capture's registrar). */
  readonly users: Readonly<Record<string, string>>;
  /** also listen on TLS (a certificate from `generateTestPki`) */
  readonly tls?: boolean;
}

/** Debian puts the modules under the multiarch dir; other layouts are tried too. */
const MODULES =
  [
    `/usr/lib/${process.arch === "arm64" ? "aarch64" : "x86_64"}-linux-gnu/kamailio/modules/`,
    "/usr/lib64/kamailio/modules/",
    "/usr/lib/kamailio/modules/",
    "/usr/local/lib64/kamailio/modules/",
  ].find((d) => existsSync(join(d, "registrar.so"))) ?? "/usr/lib/x86_64-linux-gnu/kamailio/modules/";

/**
 * A real Kamailio registrar on 127.0.0.1 (UDP, TCP and optionally TLS on free ports) with digest
 * authentication against fixed credentials and in-memory usrloc, run in the foreground from a generated
 * kamailio.cfg in a temp dir. `stop()` kills its whole process group (the main process and its children).
 */
export class KamailioRegistrar {
  private constructor(
    readonly port: number,
    readonly tlsPort: number | undefined,
    readonly pki: TestPki | undefined,
    private readonly child: ChildProcess,
    private readonly dir: string,
    private readonly exited: Promise<void>,
    private readonly output: () => string,
  ) {}

  static async start(opts: KamailioOptions): Promise<KamailioRegistrar> {
    const dir = await mkdtemp(join(tmpdir(), "registrantd-kamailio-"));
    const port = await freePort();
    const tlsPort = opts.tls === true ? await freePort() : undefined;
    const pki = opts.tls === true ? await generateTestPki(dir) : undefined;
    const cfg = join(dir, "kamailio.cfg");
    await writeFile(cfg, kamailioCfg(dir, port, tlsPort, opts.users));
    if (pki !== undefined) {
      await writeFile(
        join(dir, "tls.cfg"),
        `[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n` +
          `private_key = ${pki.key}\ncertificate = ${pki.cert}\nca_list = ${pki.ca}\n\n` +
          `[client:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n`,
      );
    }
    let out = "";
    const child = spawnGroup(
      "kamailio",
      ["-f", cfg, "-DD", "-E", "-w", dir, "-Y", dir, "-P", join(dir, "kamailio.pid"), "-m", "32", "-M", "4"],
      dir,
    );
    const collect = (d: Buffer) => {
      out += d.toString("latin1");
      if (out.length > 400_000) out = out.slice(-200_000);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    const exited = new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.once("error", () => resolve());
    });
    const k = new KamailioRegistrar(port, tlsPort, pki, child, dir, exited, () => out);
    try {
      await until(
        `kamailio listening on tcp ${port}`,
        async () => {
          if (child.exitCode !== null) throw new Error(`kamailio exited early:\n${out.slice(-4000)}`);
          return (await canConnect(port)) && (tlsPort === undefined || (await canConnect(tlsPort)));
        },
        30_000,
        100,
      );
    } catch (err) {
      await k.stop();
      throw err;
    }
    return k;
  }

  /** Registrar URI for a transport. */
  uri(transport: "udp" | "tcp" | "tls"): string {
    if (transport === "tls") return `sip:127.0.0.1:${this.tlsPort ?? 0};transport=tls`;
    return `sip:127.0.0.1:${this.port}${transport === "tcp" ? ";transport=tcp" : ""}`;
  }

  log(): string {
    return this.output();
  }

  async stop(): Promise<void> {
    await killGroup(this.child, this.exited);
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

function kamailioCfg(
  dir: string,
  port: number,
  tlsPort: number | undefined,
  users: Readonly<Record<string, string>>,
): string {
  const passwords = Object.entries(users)
    .map(([u, p]) => `  if ($au == "${u}") { $var(pw) = "${p}"; }`)
    .join("\n");
  const tls = tlsPort !== undefined;
  return `#!KAMAILIO
debug=2
log_stderror=yes
children=2
tcp_children=2
auto_aliases=no
enable_tls=${tls ? "yes" : "no"}
listen=udp:127.0.0.1:${port}
listen=tcp:127.0.0.1:${port}
${tls ? `listen=tls:127.0.0.1:${tlsPort}` : ""}
server_header="Server: kamailio-test-registrar"
mpath="${MODULES}"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "auth.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
${tls ? `loadmodule "tls.so"\nmodparam("tls", "config", "${join(dir, "tls.cfg")}")` : ""}
modparam("usrloc", "db_mode", 0)

request_route {
  if (!is_method("REGISTER")) {
    sl_send_reply("405", "Method Not Allowed");
    exit;
  }
  $var(pw) = "";
${passwords}
  if (!pv_www_authenticate("$td", "$var(pw)", "0")) {
    www_challenge("$td", "1");
    exit;
  }
  if (!save("location")) {
    sl_reply_error();
  }
  exit;
}
`;
}

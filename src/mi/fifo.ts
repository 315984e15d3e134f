import { execFile } from "node:child_process";
import { constants, open as openCb } from "node:fs";
import { lstat, unlink } from "node:fs/promises";
import { Socket } from "node:net";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import type { MiFifoConfig } from "../config/config.js";
import { ConfigError } from "../errors.js";
import type { Logger } from "../log.js";
import type { MiDispatcher } from "./dispatch.js";
import { scanJsonValue } from "./jsonrpc.js";

export interface MiFifoServer {
  readonly path: string;
  close(): Promise<void>;
}

/** Bytes kept while waiting for the end of a request (OpenSIPS reads 4 KiB; upserts with long params need more). */
const MAX_PENDING = 64 * 1024;
/** A request cut short by its writer is dropped after this, so the next one is not glued to it. */
const STALL_MS = 2000;
/** OpenSIPS: the reply FIFO is opened non-blocking, retried 4 times 80 ms apart when nobody reads it yet. */
const REPLY_OPEN_TRIES = 5;
const REPLY_OPEN_GAP_MS = 80;
/** OpenSIPS re-creates a deleted FIFO (checked every 30 s). */
export const FIFO_RECHECK_MS = 30_000;

const REPLY_NAME = /^[^./\\]+$/;

/** a plain fd (not a FileHandle, which would close it when collected): the net.Socket owns it */
const openFd = promisify(openCb) as (path: string, flags: number) => Promise<number>;

/**
 * OpenSIPS `mi_fifo` (reference mi-and-events §3): requests `:reply_name:{json}` written into the FIFO, one after
 * the other, no newline needed; the reply goes to `reply_dir/reply_name` (a FIFO the client created), as one
 * line, then EOF. An empty reply name means no reply; unparsable JSON gets no reply at all.
 */
export async function startMiFifo(
  config: MiFifoConfig,
  dispatcher: MiDispatcher,
  log: Logger,
  opts: { readonly recheckMs?: number } = {},
): Promise<MiFifoServer> {
  const mlog = log.child({ mod: "mi.fifo" });
  const path = config.fifo_name;
  let socket: Socket | undefined;
  let closed = false;
  let pending = "";
  let stall: NodeJS.Timeout | undefined;
  let queue: Promise<void> = Promise.resolve();

  const reply = async (name: string, text: string): Promise<void> => {
    const target = join(config.reply_dir, name);
    for (let attempt = 1; ; attempt++) {
      try {
        const fd = await openFd(target, constants.O_WRONLY | constants.O_NONBLOCK);
        const out = new Socket({ fd, readable: false, writable: true });
        await new Promise<void>((resolve) => {
          out.once("error", (err) => {
            mlog.warn({ err, reply: target }, "MI FIFO reply write failed");
            resolve();
          });
          out.end(text, () => resolve());
        });
        out.destroy();
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENXIO" && attempt < REPLY_OPEN_TRIES) {
          await sleep(REPLY_OPEN_GAP_MS);
          continue;
        }
        mlog.warn({ err, reply: target }, "MI FIFO reply not delivered");
        return;
      }
    }
  };

  const serve = async (name: string, json: string): Promise<void> => {
    const outcome = await dispatcher.handle(json, "fifo");
    if (name === "") return;
    switch (outcome.kind) {
      case "reply":
        return reply(name, outcome.text);
      case "failed":
        return reply(name, "failed to build response");
      case "parse-error":
      case "silent":
        return;
    }
  };

  /** Cuts as many complete requests as `pending` holds. */
  const drain = (): void => {
    for (;;) {
      const start = pending.search(/\S/);
      if (start < 0) {
        pending = "";
        return;
      }
      if (pending[start] !== ":") {
        mlog.warn("MI FIFO request refused: does not start with ':reply_name:'");
        const next = pending.indexOf(":", start);
        pending = next < 0 ? "" : pending.slice(next);
        continue;
      }
      const end = pending.indexOf(":", start + 1);
      if (end < 0) return;
      const name = pending.slice(start + 1, end);
      if (name !== "" && (!REPLY_NAME.test(name) || join(config.reply_dir, name).length > 128)) {
        mlog.warn({ name }, "MI FIFO request refused: bad reply FIFO name");
        pending = pending.slice(end + 1);
        continue;
      }
      const scan = scanJsonValue(pending, end + 1);
      if (scan.kind === "incomplete") return;
      const json = pending.slice(scan.start, scan.end);
      pending = pending.slice(scan.end);
      queue = queue
        .then(() => serve(name, json))
        .catch((err: unknown) => mlog.error({ err }, "MI FIFO request failed"));
    }
  };

  const onData = (decoder: StringDecoder) => (chunk: Buffer) => {
    pending += decoder.write(chunk);
    drain();
    if (pending.length > MAX_PENDING) {
      mlog.warn({ bytes: pending.length }, "MI FIFO request refused: over %d bytes", MAX_PENDING);
      pending = "";
    }
    clearTimeout(stall);
    if (pending.trim() !== "") {
      stall = setTimeout(() => {
        mlog.warn("MI FIFO request dropped: incomplete");
        pending = "";
      }, STALL_MS);
      stall.unref();
    }
  };

  const create = async (): Promise<void> => {
    const existing = await lstat(path).catch(() => undefined);
    if (existing) {
      if (!existing.isFIFO()) throw new ConfigError(`mi_fifo.fifo_name ${path} exists and is not a FIFO`);
      await unlink(path);
    }
    await promisify(execFile)("mkfifo", ["-m", "0660", path]);
    // read-write so the FIFO never reports EOF when a writer (opensips-cli) closes its end
    const fd = await openFd(path, constants.O_RDWR | constants.O_NONBLOCK);
    const s = new Socket({ fd, readable: true, writable: false });
    s.on("data", onData(new StringDecoder("utf8")));
    s.on("error", (err) => mlog.error({ err }, "MI FIFO read error"));
    socket = s;
  };

  await create();
  mlog.info({ fifo: path, reply_dir: config.reply_dir }, "MI FIFO listening");

  let recreating = false;
  const recheck = setInterval(() => {
    if (recreating) return;
    recreating = true;
    void lstat(path)
      .then(
        () => undefined,
        async () => {
          if (closed) return;
          mlog.warn({ fifo: path }, "MI FIFO was deleted: re-creating it");
          socket?.destroy();
          await create().catch((err: unknown) => mlog.error({ err }, "MI FIFO re-create failed"));
        },
      )
      .finally(() => (recreating = false));
  }, opts.recheckMs ?? FIFO_RECHECK_MS);
  recheck.unref();

  return {
    path,
    close: async () => {
      closed = true;
      clearInterval(recheck);
      clearTimeout(stall);
      socket?.destroy();
      await queue;
      await unlink(path).catch(() => undefined);
    },
  };
}

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Frames of a capture in shared/golden/sip: `===== frame N <time> <PROTO> <src> -> <dst> (n bytes)` + text. */
export interface GoldenFrame {
  readonly proto: string;
  readonly src: string;
  readonly dst: string;
  /** the message with CRLF line ends, as on the wire */
  readonly text: string;
}

export function goldenFrames(name: string): GoldenFrame[] {
  const path = fileURLToPath(new URL(`../../../../shared/golden/sip/${name}`, import.meta.url));
  const out: GoldenFrame[] = [];
  const parts = readFileSync(path, "utf8")
    .split(/^===== frame /m)
    .slice(1);
  for (const part of parts) {
    const nl = part.indexOf("\n");
    const head = /^\d+ \S+ (\w+) (\S+) -> (\S+)/.exec(part.slice(0, nl));
    if (!head) continue;
    const body = part.slice(nl + 1).replace(/\n+$/, "");
    const [headers, ...rest] = body.split("\n\n");
    const text = `${headers!.split("\n").join("\r\n")}\r\n\r\n${rest.join("\n\n")}`;
    out.push({ proto: head[1]!, src: head[2]!, dst: head[3]!, text });
  }
  return out;
}

export function callIdOf(text: string): string {
  return /^(?:call-id|i)\s*:\s*(\S+)/im.exec(text)![1]!;
}

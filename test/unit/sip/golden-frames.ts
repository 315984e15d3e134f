import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The golden OpenSIPS captures (copied from shared/golden/sip) are stored as text with LF line ends; on the
 * wire every line ended in CRLF. A frame is rebuilt by joining its lines with CRLF and is kept only when its
 * length equals the byte count the capture recorded (the last frame of the two-contacts trace is cut short).
 */
export interface GoldenFrame {
  readonly file: string;
  readonly frame: number;
  readonly transport: "UDP" | "TCP";
  readonly from: string;
  readonly to: string;
  readonly bytes: Buffer;
}

export const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/sip/golden");

const HEADER = /^===== frame (\d+) \S+ (UDP|TCP) (\S+) -> (\S+) \((\d+) bytes\)$/;

export function loadGoldenFile(file: string): { frames: GoldenFrame[]; truncated: number } {
  const text = readFileSync(join(GOLDEN_DIR, file), "latin1");
  const frames: GoldenFrame[] = [];
  let truncated = 0;
  const blocks = text.split(/^(?======)/m);
  for (const block of blocks) {
    const nl = block.indexOf("\n");
    const m = HEADER.exec(nl < 0 ? block : block.slice(0, nl));
    if (m === null) continue;
    const lines = block.slice(nl + 1).split("\n");
    // the capture writes every frame's lines, then one more LF before the next header
    if (lines[lines.length - 1] === "") lines.pop();
    const bytes = Buffer.from(lines.map((l) => `${l}\r\n`).join(""), "latin1");
    if (bytes.length !== Number(m[5])) {
      truncated++;
      continue;
    }
    frames.push({
      file,
      frame: Number(m[1]),
      transport: m[2] as "UDP" | "TCP",
      from: m[3]!,
      to: m[4]!,
      bytes,
    });
  }
  return { frames, truncated };
}

export function goldenFiles(): string[] {
  return readdirSync(GOLDEN_DIR)
    .filter((f) => f.endsWith(".txt"))
    .sort();
}

export function allGoldenFrames(): GoldenFrame[] {
  return goldenFiles().flatMap((f) => loadGoldenFile(f).frames);
}

export function goldenFrame(file: string, frame: number): GoldenFrame {
  const found = loadGoldenFile(file).frames.find((f) => f.frame === frame);
  if (found === undefined) throw new Error(`no frame ${frame} in ${file}`);
  return found;
}

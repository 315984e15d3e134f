import { loadGoldenFile } from "../sip/golden-frames.js";

/** A golden capture frame as the trace tests read it: the text as on the wire (CRLF line ends). */
export interface GoldenFrame {
  readonly proto: string;
  readonly src: string;
  readonly dst: string;
  readonly text: string;
}

/** The frames of one capture in test/fixtures/sip/golden, through the SIP tests' loader. */
export function goldenFrames(name: string): GoldenFrame[] {
  return loadGoldenFile(name).frames.map((f) => ({
    proto: f.transport,
    src: f.from,
    dst: f.to,
    text: f.bytes.toString("latin1"),
  }));
}

export function callIdOf(text: string): string {
  return /^(?:call-id|i)\s*:\s*(\S+)/im.exec(text)![1]!;
}

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const DIR = fileURLToPath(new URL("../../../src/registrant/", import.meta.url));

test("machine.ts is the only writer of a record's state, and writes it in one place", () => {
  const writers: string[] = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith(".ts"))) {
    const text = readFileSync(join(DIR, file), "utf8");
    const n = (text.match(/\.state\s*=[^=]/g) ?? []).length;
    if (n > 0) writers.push(`${file}:${n}`);
  }
  assert.deepEqual(writers, ["machine.ts:1"]);
});

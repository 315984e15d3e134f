import { test } from "node:test";
import assert from "node:assert/strict";
import { bucketOf, coreHash } from "../../../src/registrant/core-hash.js";

// Expected values computed with OpenSIPS's hash_func.h core_hash() compiled by gcc on x86-64 (signed char).
const VECTORS: [string, number, number, number][] = [
  ["sip:alice@example.test", 721582706, 0, 626],
  ["sip:bob@example.test", 1314282587, 1, 91],
  ["sip:carol@example.test", 615314691, 1, 259],
  ["sip:dave@example.test", 3138523721, 1, 585],
  ["sip:erin@sipp.test", 2913263040, 0, 448],
  ["", 0, 0, 0],
  ["abc", 7167810, 0, 834],
  ["sip:jürgen@example.com", 909762351, 1, 815],
  ["sip:x@y", 2106540798, 0, 766],
];

test("core_hash gives OpenSIPS's values and bucket numbers", () => {
  for (const [aor, raw, of2, of1024] of VECTORS) {
    assert.equal(coreHash(aor), raw, aor);
    assert.equal(bucketOf(aor, 2), of2, aor);
    assert.equal(bucketOf(aor, 1024), of1024, aor);
    assert.equal(bucketOf(aor, 1), 0);
  }
});

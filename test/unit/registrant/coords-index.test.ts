import { test } from "node:test";
import assert from "node:assert/strict";
import { CoordsIndex } from "../../../src/registrant/coords-index.js";

const at = (aor: string, contact: string, registrar = "sip:r.test") => ({ aor, contact, registrar });

test("finds items by all three coordinates, several per AOR", () => {
  const index = new CoordsIndex<ReturnType<typeof at>>();
  const a1 = at("sip:a@x", "sip:a@1");
  const a2 = at("sip:a@x", "sip:a@2");
  const a3 = at("sip:a@x", "sip:a@1", "sip:other.test");
  const b = at("sip:b@x", "sip:b@1");
  for (const item of [a1, a2, a3, b]) assert.equal(index.add(item), true);
  assert.equal(index.size, 4);
  assert.equal(index.get(at("sip:a@x", "sip:a@2")), a2);
  assert.equal(index.get(at("sip:a@x", "sip:a@1", "sip:other.test")), a3);
  assert.equal(index.get(at("sip:a@x", "sip:a@3")), undefined);
  assert.equal(index.get(at("sip:c@x", "sip:a@1")), undefined);
});

test("refuses a second item with the same coordinates", () => {
  const index = new CoordsIndex<ReturnType<typeof at>>();
  assert.equal(index.add(at("sip:a@x", "sip:a@1")), true);
  assert.equal(index.add(at("sip:a@x", "sip:a@1")), false);
  assert.equal(index.add(at("sip:a@x", "sip:a@2")), true);
  assert.equal(index.add(at("sip:a@x", "sip:a@2")), false);
  assert.equal(index.size, 2);
});

test("take removes and returns one item, leaving its AOR's others", () => {
  const index = new CoordsIndex<ReturnType<typeof at>>();
  const a1 = at("sip:a@x", "sip:a@1");
  const a2 = at("sip:a@x", "sip:a@2");
  const b = at("sip:b@x", "sip:b@1");
  [a1, a2, b].forEach((item) => index.add(item));
  assert.equal(index.take(at("sip:a@x", "sip:a@9")), undefined);
  assert.equal(index.take(at("sip:a@x", "sip:a@1")), a1);
  assert.equal(index.get(a1), undefined);
  assert.equal(index.get(a2), a2);
  assert.equal(index.take(b), b);
  assert.equal(index.take(b), undefined);
  assert.equal(index.take(a2), a2);
  assert.equal(index.size, 0);
  assert.equal(index.add(a1), true);
});

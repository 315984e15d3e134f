import assert from "node:assert/strict";
import { test } from "node:test";
import { IdPages } from "../../../src/registrant/id-pages.js";

test("IdPages: a value per id across pages, replaced in place, taken once; none where there is none", () => {
  const slots = new IdPages((size) => new Int32Array(size).fill(-1), -1);
  for (const id of [0, 1023, 1024, 5_000_000]) {
    assert.equal(slots.get(id), -1);
    slots.set(id, id % 7);
  }
  slots.set(1024, 99);
  assert.equal(slots.get(1024), 99);
  assert.equal(slots.take(1024), 99);
  assert.equal(slots.take(1024), -1);
  assert.equal(slots.get(1023), 1023 % 7);
  assert.equal(slots.take(77_777_777), -1);
  assert.ok(slots.isNone(-1) && !slots.isNone(0));
});

test("IdPages: a page emptied and used again holds none but what is set anew", () => {
  const times = new IdPages((size) => new Float64Array(size).fill(Number.NaN), Number.NaN);
  for (let id = 0; id < 3000; id++) times.set(id, id * 2);
  for (let id = 0; id < 3000; id++) assert.equal(times.take(id), id * 2);
  // the emptied pages come back for other ids, with nothing left of the old values
  for (let id = 10_000; id < 13_000; id += 3) times.set(id, 0);
  for (let id = 10_000; id < 13_000; id++) {
    const v = times.get(id);
    if ((id - 10_000) % 3 === 0) assert.equal(v, 0);
    else assert.ok(times.isNone(v), `id ${id}`);
  }
});

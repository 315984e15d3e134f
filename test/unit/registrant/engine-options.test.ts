import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkEngineOptions,
  defaultEngineOptions,
  tickPeriodSec,
  bucketCount,
} from "../../../src/registrant/engine-options.js";
import { ConfigError } from "../../../src/errors.js";

test("defaults: 2 buckets, one every 50 s", () => {
  assert.equal(bucketCount(defaultEngineOptions), 2);
  assert.equal(tickPeriodSec(defaultEngineOptions), 50);
  assert.equal(tickPeriodSec({ timerIntervalSec: 8, hashSize: 2 }), 2);
});

test("OpenSIPS's start-up checks, same wording", () => {
  assert.throws(
    () => checkEngineOptions({ ...defaultEngineOptions, timerIntervalSec: 10, hashSize: 4 }),
    (e: unknown) =>
      e instanceof ConfigError && e.message === "timer_interval=[10] MUST be at least as big as reg_hsize=[16]",
  );
  assert.throws(() => checkEngineOptions({ ...defaultEngineOptions, timerIntervalSec: 9 }), /timer_interval to short/);
  assert.throws(() => checkEngineOptions({ ...defaultEngineOptions, reregisterExpiryPercentage: 0 }), ConfigError);
  assert.throws(() => checkEngineOptions({ ...defaultEngineOptions, reregisterExpiryPercentage: 101 }), ConfigError);
  checkEngineOptions({ ...defaultEngineOptions, hashSize: 0 });
  checkEngineOptions({ ...defaultEngineOptions, timerIntervalSec: 16, hashSize: 4 });
});

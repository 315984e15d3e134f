import type { Config } from "../config/config.js";
import { ConfigError } from "../errors.js";
import type { Logger } from "../log.js";

/**
 * What the engine needs from the configuration. The first block is OpenSIPS's modparams; the second block is our
 * improvements (reference §11), each one setting away from OpenSIPS's behaviour (see `opensipsBehaviour`).
 */
export interface EngineOptions {
  /** TI: every bucket is visited about every TI seconds */
  readonly timerIntervalSec: number;
  /** 2^hash_size buckets */
  readonly hashSize: number;
  /** FRI; 0 = retry at expires*PCT/100 - TI */
  readonly failureRetryIntervalSec: number;
  /** PCT, 1..100 */
  readonly reregisterExpiryPercentage: number;
  readonly enableClustering: boolean;
  readonly userAgent?: string;

  /** honour `Retry-After` in error replies as the retry deadline (`honour_retry_after`) */
  readonly honourRetryAfter: boolean;
  /** exponential backoff + jitter for repeated failures, capped by FRI or expires (`failure_backoff`) */
  readonly failureBackoff: boolean;
  /** spread the records due in one bucket over the tick instead of one burst (`spread_tick`) */
  readonly spreadTick: boolean;
  /** unREGISTER every registered record on a graceful stop (`unregister_on_shutdown`) */
  readonly unregisterOnShutdown: boolean;
  /** how long a graceful stop waits for those unREGISTERs (`shutdown_unregister_timeout`, seconds) */
  readonly shutdownUnregisterTimeoutSec: number;
  /** MI force_register sends at once (inside the cluster gate) instead of at the next tick (`force_register_immediate`) */
  readonly forceRegisterImmediate: boolean;
  /** one more authenticated try when a second challenge says `stale=true` (`stale_nonce_retry`) */
  readonly staleNonceRetry: boolean;
  /** `Contact: *` removals in a row before unique-binding enforcement gives up; 0 = unlimited (`unique_binding_max_removals`) */
  readonly uniqueBindingMaxRemovals: number;
}

/** The OpenSIPS modparam defaults plus our improvements switched on. */
export const defaultEngineOptions: EngineOptions = {
  timerIntervalSec: 100,
  hashSize: 1,
  failureRetryIntervalSec: 0,
  reregisterExpiryPercentage: 100,
  enableClustering: false,
  honourRetryAfter: true,
  failureBackoff: true,
  spreadTick: true,
  unregisterOnShutdown: false,
  shutdownUnregisterTimeoutSec: 5,
  forceRegisterImmediate: true,
  staleNonceRetry: true,
  uniqueBindingMaxRemovals: 1,
};

/** The improvement switches set to what OpenSIPS 4.0 does. */
export const opensipsBehaviour = {
  honourRetryAfter: false,
  failureBackoff: false,
  spreadTick: false,
  unregisterOnShutdown: false,
  forceRegisterImmediate: false,
  staleNonceRetry: false,
  uniqueBindingMaxRemovals: 0,
} as const satisfies Partial<EngineOptions>;

const flag = (v: number | undefined, dflt: boolean): boolean => (v === undefined ? dflt : v !== 0);

/** Builds the options from the validated config (keys as in src/config/config.ts). */
export function engineOptionsFromConfig(config: Config): EngineOptions {
  const d = defaultEngineOptions;
  return {
    timerIntervalSec: config.timer_interval,
    hashSize: config.hash_size,
    failureRetryIntervalSec: config.failure_retry_interval,
    reregisterExpiryPercentage: config.reregister_expiry_percentage,
    enableClustering: config.enable_clustering !== 0,
    userAgent: config.user_agent,
    honourRetryAfter: flag(config.honour_retry_after, d.honourRetryAfter),
    failureBackoff: flag(config.failure_backoff, d.failureBackoff),
    spreadTick: flag(config.spread_tick, d.spreadTick),
    unregisterOnShutdown: flag(config.unregister_on_shutdown, d.unregisterOnShutdown),
    shutdownUnregisterTimeoutSec: config.shutdown_unregister_timeout ?? d.shutdownUnregisterTimeoutSec,
    forceRegisterImmediate: flag(config.force_register_immediate, d.forceRegisterImmediate),
    staleNonceRetry: flag(config.stale_nonce_retry, d.staleNonceRetry),
    uniqueBindingMaxRemovals: config.unique_binding_max_removals ?? d.uniqueBindingMaxRemovals,
  };
}

/** Number of hash buckets: 2^hash_size (OpenSIPS `1 << hash_size`). */
export function bucketCount(options: Pick<EngineOptions, "hashSize">): number {
  return 2 ** options.hashSize;
}

/** Seconds between two timer firings: floor(TI / N) (reference §3.6). */
export function tickPeriodSec(options: Pick<EngineOptions, "hashSize" | "timerIntervalSec">): number {
  return Math.floor(options.timerIntervalSec / bucketCount(options));
}

/**
 * OpenSIPS's start-up checks for these modparams (reference §2, §3.6), same rule and same wording; throws
 * ConfigError. A hash_size outside 1..20 is only logged, as OpenSIPS does (values JS cannot shift are refused).
 */
export function checkEngineOptions(options: EngineOptions, log?: Logger): void {
  const { hashSize, timerIntervalSec: ti, reregisterExpiryPercentage: pct } = options;
  if (!Number.isInteger(hashSize) || hashSize < 0 || hashSize > 30) {
    throw new ConfigError(`hash_size=[${hashSize}] must be an integer in 0..30`);
  }
  if (hashSize < 1 || hashSize > 20) log?.error(`Wrong hash size: 20<[${hashSize}]<1`);
  if (!Number.isInteger(ti) || ti < 10) throw new ConfigError(`timer_interval to short (timer_interval=[${ti}])`);
  const n = bucketCount(options);
  if (Math.floor(ti / n) === 0) {
    throw new ConfigError(`timer_interval=[${ti}] MUST be at least as big as reg_hsize=[${n}]`);
  }
  if (!Number.isInteger(pct) || pct < 1 || pct > 100) {
    throw new ConfigError(`reregister_expiry_percentage=[${pct}] must be in 1..100`);
  }
  if (options.failureRetryIntervalSec < 0) {
    throw new ConfigError(`failure_retry_interval=[${options.failureRetryIntervalSec}] must not be negative`);
  }
  if (options.uniqueBindingMaxRemovals < 0) {
    throw new ConfigError(`unique_binding_max_removals=[${options.uniqueBindingMaxRemovals}] must not be negative`);
  }
}

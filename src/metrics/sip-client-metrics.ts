import type { TransactionObserver } from "../sip/sip-client.js";
import type { Metrics } from "./metrics.js";

/**
 * A transaction observer (SendPacer.observe) that times each REGISTER transaction (start to final outcome, on the
 * monotonic clock) and counts final replies by status code. It sees exactly what the engine sees: one outcome per
 * request.
 */
export function transactionMetrics(metrics: Pick<Metrics, "observeTransaction">): TransactionObserver {
  return (_request, outcome, durationMs) =>
    metrics.observeTransaction(
      Math.max(0, durationMs) / 1000,
      outcome.kind === "response" ? outcome.response.status : undefined,
    );
}

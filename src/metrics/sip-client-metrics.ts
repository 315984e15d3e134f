import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import type { RegisterRequest, SendOutcome, SipClient } from "../sip/sip-client.js";
import type { Metrics } from "./metrics.js";

/**
 * A SipClient that times each REGISTER transaction (send to final outcome, on the monotonic clock) and counts
 * final replies by status code. It sees exactly what the engine sees: one outcome per request.
 */
export function instrumentSipClient(
  inner: SipClient,
  metrics: Pick<Metrics, "observeTransaction">,
  clock: Clock = systemClock,
): SipClient {
  return {
    // one reaction per request, no async frame: this wraps every REGISTER of a storm
    send(request: RegisterRequest): Promise<SendOutcome> {
      const t0 = clock.monoMs();
      return inner.send(request).then((outcome) => {
        const seconds = Math.max(0, clock.monoMs() - t0) / 1000;
        metrics.observeTransaction(seconds, outcome.kind === "response" ? outcome.response.status : undefined);
        return outcome;
      });
    },
  };
}

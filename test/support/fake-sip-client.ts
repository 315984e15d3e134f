import type { SipHeader, SipResponse } from "../../src/sip/message.js";
import type { Destination, RegisterRequest, SendOutcome, SipClient } from "../../src/sip/sip-client.js";

export const FAKE_DESTINATION: Destination = {
  transport: "udp",
  address: "192.0.2.7",
  port: 5060,
  socket: "udp:127.0.0.1:5080",
};

/** A SipResponse built by hand; header names are given in canonical lower-case long form. */
export function response(
  status: number,
  headers: Record<string, string | string[]> = {},
  reason = "Reason",
): SipResponse {
  const list: SipHeader[] = [];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) list.push({ name, value: v });
  }
  return { kind: "response", status, reason, headers: list, body: Buffer.alloc(0) };
}

export interface PendingSend {
  readonly request: RegisterRequest;
  readonly resolve: (outcome: SendOutcome) => void;
  answered: boolean;
}

/**
 * A SipClient that records every REGISTER and lets the test decide each outcome (or answers through
 * `autoAnswer`). Outcomes are delivered asynchronously, like a real stack; `flush()` lets them land.
 */
export class FakeSipClient implements SipClient {
  readonly sent: PendingSend[] = [];
  autoAnswer: ((request: RegisterRequest) => SendOutcome | undefined) | undefined;
  /** observes every request as it is sent (property checks) */
  onSend: ((request: RegisterRequest) => void) | undefined;

  send(request: RegisterRequest): Promise<SendOutcome> {
    this.onSend?.(request);
    return new Promise((resolve) => {
      const p: PendingSend = { request, resolve, answered: false };
      this.sent.push(p);
      const auto = this.autoAnswer?.(request);
      if (auto !== undefined) this.answer(p, auto);
    });
  }

  /** Requests not answered yet, oldest first. */
  get pending(): PendingSend[] {
    return this.sent.filter((p) => !p.answered);
  }

  get last(): RegisterRequest {
    const p = this.sent[this.sent.length - 1];
    if (p === undefined) throw new Error("nothing sent");
    return p.request;
  }

  /** Answer the oldest pending request. */
  reply(status: number, headers: Record<string, string | string[]> = {}): RegisterRequest {
    return this.outcome({ kind: "response", response: response(status, headers), destination: FAKE_DESTINATION });
  }

  timeout(): RegisterRequest {
    return this.outcome({ kind: "timeout" });
  }

  transportError(message = "connection refused"): RegisterRequest {
    return this.outcome({ kind: "transport-error", error: new Error(message) });
  }

  outcome(outcome: SendOutcome, index = 0): RegisterRequest {
    const p = this.pending[index];
    if (p === undefined) throw new Error("no pending request to answer");
    this.answer(p, outcome);
    return p.request;
  }

  private answer(p: PendingSend, outcome: SendOutcome): void {
    p.answered = true;
    p.resolve(outcome);
  }
}

/** Lets resolved outcomes reach the engine. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}

/**
 * RFC 3261 §17.1.2.2 / Table 4 timers for the non-INVITE client transaction, in ms. OpenSIPS's tm names them
 * `t1_timeout`, `t2_timeout` and `fr_timeout`; its defaults are T1 = 500 ms, T2 = 4 s and fr_timeout = 30 s
 * (the golden captures ran with fr_timeout 5 s).
 */
export interface SipTimers {
  /** RTT estimate; first retransmission interval over UDP. */
  readonly t1: number;
  /** Cap of the retransmission interval. */
  readonly t2: number;
  /** How long the network may hold a message; Timer K over UDP. */
  readonly t4: number;
  /** Timer F: no final response by then → timeout (RFC: 64*T1; OpenSIPS: fr_timeout). */
  readonly timerF: number;
}

export const T1 = 500;
export const T2 = 4_000;
export const T4 = 5_000;

/** RFC 3261 defaults: Timer F = 64*T1 = 32 s. */
export const RFC_TIMERS: SipTimers = { t1: T1, t2: T2, t4: T4, timerF: 64 * T1 };

/** Timer E's next interval: doubling from T1 up to T2 while Trying, T2 once Proceeding (§17.1.2.2). */
export function nextTimerE(previousMs: number, proceeding: boolean, timers: SipTimers): number {
  return proceeding ? timers.t2 : Math.min(2 * previousMs, timers.t2);
}

/** Timer K: T4 over UDP, zero over a reliable transport (§17.1.2.2). */
export function timerK(reliable: boolean, timers: SipTimers): number {
  return reliable ? 0 : timers.t4;
}

import type { TransportError } from "../../errors.js";
import type { SipResponse } from "../message.js";
import { nextTimerE, timerK } from "./timers.js";
import type { SipTimers } from "./timers.js";
import type { TimerWheel, WheelTask, WheelTimer } from "./timer-wheel.js";

export const NictState = {
  Trying: "Trying",
  Proceeding: "Proceeding",
  Completed: "Completed",
  Terminated: "Terminated",
} as const;
export type NictState = (typeof NictState)[keyof typeof NictState];

/** What the transaction user hears, exactly once per transaction. */
export type NictOutcome =
  | { readonly kind: "response"; readonly response: SipResponse }
  | { readonly kind: "timeout" }
  | { readonly kind: "transport-error"; readonly error: TransportError };

/** How the transaction puts its request on the wire. Send failures come back through `transportError()`. */
export interface NictWire {
  /** TCP/TLS: no retransmissions, Timer K = 0 (§17.1.2.2). */
  readonly reliable: boolean;
  send(bytes: Buffer): void;
}

export interface NictHooks {
  /** The one final outcome for the TU. */
  readonly onOutcome: (outcome: NictOutcome) => void;
  /** Terminated: the owner drops it from its table. */
  readonly onTerminated: () => void;
  /** Counted by the stack's stats. */
  readonly onRetransmit?: () => void;
  /**
   * The owner absorbs retransmitted final responses itself (TransactionTable.retire): no Timer K here, the
   * transaction is Terminated right after its final response, so it is not kept alive for T4 (5 s over UDP).
   */
  readonly ownerAbsorbsRetransmissions?: boolean;
}

/**
 * RFC 3261 §17.1.2 non-INVITE client transaction (figure 6):
 *
 *                    start: send request, Timer F; Timer E (UDP only)
 *                                 |
 *      Timer E: resend,           v           Timer F or transport error: TU told, → Terminated
 *      E = min(2E, T2)  +----> Trying ----------------------------------------------+
 *                       +------- |  \ 1xx                                            |
 *                                |   v                                               |
 *      Timer E: resend, E = T2   | Proceeding -- Timer F / transport error ----------+
 *              (1xx absorbed)    |   | 200-699: TU told                              |
 *                       200-699: |   v                                               |
 *                       TU told  +-> Completed -- Timer K (T4 UDP, 0 TCP) --> Terminated
 *                                    (late responses absorbed)
 *
 * Timers E and F share ONE entry on the shared wheel, set for whichever is due first and set again when it fires.
 * A final response cancels it, and a cancelled entry stays in its wheel slot until the slot comes round: with an
 * entry per timer, the cancelled Timer F of every answered transaction lingered 32 s (a million of them during a
 * storm); now it is the next Timer E's, at most T2 away (T1 for a prompt answer). Over TCP/TLS the entry is
 * Timer F's.
 */
export class NonInviteClientTransaction implements WheelTask {
  private current: NictState = NictState.Trying;
  private intervalE: number;
  /** The wheel entry of Timer E or Timer F, whichever is due first. */
  private timer: WheelTimer | undefined;
  /** The entry is Timer F's (Timer E would not come before it). */
  private timerIsF = false;
  /** When Timer F fires, on the wheel's clock. */
  private deadlineF = 0;
  private timerKHandle: WheelTimer | undefined;

  constructor(
    private request: Buffer | undefined,
    private readonly wire: NictWire,
    private readonly timers: SipTimers,
    private readonly wheel: TimerWheel,
    private readonly hooks: NictHooks,
  ) {
    this.intervalE = timers.t1;
  }

  get state(): NictState {
    return this.current;
  }

  /** Sends the request and starts the timers (§17.1.2.2: Timer F always, Timer E only when unreliable). */
  start(): void {
    const now = this.wheel.nowMs();
    this.deadlineF = now + this.timers.timerF;
    this.setTimer(this.wire.reliable ? Infinity : this.intervalE, now);
    if (this.request !== undefined) this.wire.send(this.request);
  }

  /** The wheel's call: Timer F once its deadline has come (it wins a tie with Timer E), else Timer E. */
  onTimer(): void {
    this.timer = undefined;
    if (this.current !== NictState.Trying && this.current !== NictState.Proceeding) return;
    const now = this.wheel.nowMs();
    if (this.timerIsF || now >= this.deadlineF) this.onTimerF();
    else this.onTimerE(now);
  }

  receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.current) {
      case NictState.Trying:
      case NictState.Proceeding:
        if (status < 200) {
          // §17.1.2.2: a provisional response moves Trying to Proceeding; Timer E keeps running at T2
          this.current = NictState.Proceeding;
          return;
        }
        // §17.1.2.2: a final response goes to the TU; Completed absorbs retransmissions for Timer K
        this.cancelRunningTimers();
        this.current = NictState.Completed;
        this.hooks.onOutcome({ kind: "response", response });
        this.enterCompleted();
        return;
      case NictState.Completed:
      case NictState.Terminated:
        // late or duplicate response: absorbed
        return;
    }
  }

  /** §17.1.4: the transport could not deliver (or the connection broke): TU told, Terminated. */
  transportError(error: TransportError): void {
    if (this.current !== NictState.Trying && this.current !== NictState.Proceeding) return;
    this.cancelRunningTimers();
    this.terminate();
    this.hooks.onOutcome({ kind: "transport-error", error });
  }

  /** The stack closes: drop the timers silently (the stack reports the outcome itself). */
  abort(): void {
    this.cancelRunningTimers();
    this.timerKHandle?.cancel();
    this.terminate();
  }

  private onTimerE(now: number): void {
    this.intervalE = nextTimerE(this.intervalE, this.current === NictState.Proceeding, this.timers);
    this.setTimer(this.intervalE, now);
    this.hooks.onRetransmit?.();
    if (this.request !== undefined) this.wire.send(this.request);
  }

  private onTimerF(): void {
    // §17.1.2.2: Timer F → Terminated, the TU is told of the timeout (OpenSIPS fakes a 408 here)
    this.terminate();
    this.hooks.onOutcome({ kind: "timeout" });
  }

  private enterCompleted(): void {
    // nothing is sent any more: the request's bytes need not live through Timer K
    this.request = undefined;
    const k = this.hooks.ownerAbsorbsRetransmissions === true ? 0 : timerK(this.wire.reliable, this.timers);
    if (k === 0) this.terminate();
    else this.timerKHandle = this.wheel.schedule(k, () => this.terminate());
  }

  /** The wheel entry for Timer E in `untilE` ms or Timer F at its deadline, whichever comes first. */
  private setTimer(untilE: number, now: number): void {
    const untilF = this.deadlineF - now;
    this.timerIsF = untilF <= untilE;
    this.timer = this.wheel.scheduleTask(this.timerIsF ? untilF : untilE, this, now);
  }

  private cancelRunningTimers(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private terminate(): void {
    if (this.current === NictState.Terminated) return;
    this.current = NictState.Terminated;
    this.request = undefined;
    this.hooks.onTerminated();
  }
}

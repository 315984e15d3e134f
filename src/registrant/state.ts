/**
 * OpenSIPS's registrant states, same names and numbers (reference §5.1).
 *
 *            tick (enabled)          401/407            200
 *  NOT_REGISTERED ──────► REGISTERING ──────► AUTHENTICATING ──────► REGISTERED
 *        ▲                    │  ▲ 423              │ 401/407 again        │ refresh tick
 *        │ 200 (disabled)     │  └──────────────────┘ → WRONG_CREDENTIALS  └──► REGISTERING
 *        │                    ├─ 408/timeout → REGISTER_TIMEOUT
 *  UNREGISTERING ◄── disable  ├─ 3xx, send/parse failure → INTERNAL_ERROR
 *        │ 401/407            └─ other error → REGISTRAR_ERROR      (error states retry at the deadline)
 *        ▼
 *  AUTHENTICATING_UNREGISTER
 */
export const RegState = {
  NOT_REGISTERED_STATE: 0,
  REGISTERING_STATE: 1,
  AUTHENTICATING_STATE: 2,
  REGISTERED_STATE: 3,
  REGISTER_TIMEOUT_STATE: 4,
  INTERNAL_ERROR_STATE: 5,
  WRONG_CREDENTIALS_STATE: 6,
  REGISTRAR_ERROR_STATE: 7,
  UNREGISTERING_STATE: 8,
  AUTHENTICATING_UNREGISTER_STATE: 9,
} as const;

export type RegStateName = keyof typeof RegState;
export type RegStateValue = (typeof RegState)[RegStateName];

const NAMES: readonly RegStateName[] = [
  "NOT_REGISTERED_STATE",
  "REGISTERING_STATE",
  "AUTHENTICATING_STATE",
  "REGISTERED_STATE",
  "REGISTER_TIMEOUT_STATE",
  "INTERNAL_ERROR_STATE",
  "WRONG_CREDENTIALS_STATE",
  "REGISTRAR_ERROR_STATE",
  "UNREGISTERING_STATE",
  "AUTHENTICATING_UNREGISTER_STATE",
];

export function stateName(state: RegStateValue): RegStateName {
  return NAMES[state]!;
}

/** States waiting for a transaction's final outcome: the tick leaves them alone. */
export function isWaiting(state: RegStateValue): boolean {
  return (
    state === RegState.REGISTERING_STATE ||
    state === RegState.AUTHENTICATING_STATE ||
    state === RegState.UNREGISTERING_STATE ||
    state === RegState.AUTHENTICATING_UNREGISTER_STATE
  );
}

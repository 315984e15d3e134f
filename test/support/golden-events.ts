import type { Coords } from "../../src/registrant/coords.js";
import { RegState } from "../../src/registrant/state.js";
import type { RegStateValue } from "../../src/registrant/state.js";

/** the record each golden body was captured for, and the state that raised it */
export const GOLDEN_CASES: readonly { event: string; state: RegStateValue; coords: Coords }[] = (() => {
  const alice = { aor: "sip:alice@example.test", contact: "sip:alice@127.0.0.1:5080", registrar: "sip:127.0.0.1:5070" };
  const sipp = (user: string, port: number) => ({
    aor: `sip:${user}@sipp.test`,
    contact: `sip:${user}@127.0.0.1:5080`,
    registrar: `sip:127.0.0.1:${port}`,
  });
  return [
    { event: "E_REGISTRANT_REGISTERING", state: RegState.REGISTERING_STATE, coords: alice },
    { event: "E_REGISTRANT_AUTHENTICATING", state: RegState.AUTHENTICATING_STATE, coords: alice },
    { event: "E_REGISTRANT_REGISTERED", state: RegState.REGISTERED_STATE, coords: alice },
    { event: "E_REGISTRANT_REGISTER_TIMEOUT", state: RegState.REGISTER_TIMEOUT_STATE, coords: sipp("judy", 5096) },
    { event: "E_REGISTRANT_INTERNAL_ERROR", state: RegState.INTERNAL_ERROR_STATE, coords: sipp("mike", 5098) },
    {
      event: "E_REGISTRANT_WRONG_CREDENTIALS",
      state: RegState.WRONG_CREDENTIALS_STATE,
      coords: { ...alice, aor: "sip:carol@example.test", contact: "sip:carol@127.0.0.1:5080" },
    },
    {
      event: "E_REGISTRANT_REGISTRAR_ERROR",
      state: RegState.REGISTRAR_ERROR_STATE,
      coords: { aor: "sip:dave@example.test", contact: "sip:dave@127.0.0.1:5080", registrar: "sip:example.test" },
    },
    { event: "E_REGISTRANT_UNREGISTERING", state: RegState.UNREGISTERING_STATE, coords: alice },
    { event: "E_REGISTRANT_AUTHENTICATING_UNREGISTER", state: RegState.AUTHENTICATING_UNREGISTER_STATE, coords: alice },
  ];
})();

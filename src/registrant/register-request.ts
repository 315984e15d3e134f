import type { RegisterRequest } from "../sip/sip-client.js";
import type { RegistrantRecord } from "./record.js";

/**
 * The REGISTER of reference §6.1: Request-URI = registrar, To = AOR, From = third party or AOR with our tag, the
 * proxy as next hop only, Contact = binding + params + `;expires=wanted`. `expiresSec` 0 gives the single-contact
 * unREGISTER of §6.2; `"*"` the remove-all form (`Contact: *`, `Expires: 0`).
 *
 * Every request has the same object shape, the parts a record lacks being undefined: no spread per optional part,
 * and the SIP stack reading it sees one shape (two REGISTERs per registration in a storm).
 */
export function buildRegister(
  rec: RegistrantRecord,
  expiresSec: number | "*",
  userAgent: string | undefined,
  authorization: RegisterRequest["authorization"],
): RegisterRequest {
  const { spec } = rec;
  return {
    requestUri: rec.registrar,
    proxy: spec.proxy,
    forcedSocket: spec.forcedSocket,
    to: rec.aor,
    from: rec.from,
    fromTag: rec.fromTag,
    callId: rec.callId,
    cseq: rec.cseq,
    contact: expiresSec === "*" ? "*" : { uri: rec.contact, params: spec.bindingParams ?? "", expiresSec },
    userAgent,
    authorization,
  };
}

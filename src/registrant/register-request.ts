import type { RegisterRequest } from "../sip/sip-client.js";
import type { RegistrantRecord } from "./record.js";

export interface RequestExtras {
  readonly userAgent?: string | undefined;
  readonly authorization?: RegisterRequest["authorization"] | undefined;
}

/**
 * The REGISTER of reference §6.1: Request-URI = registrar, To = AOR, From = third party or AOR with our tag, the
 * proxy as next hop only, Contact = binding + params + `;expires=wanted`. `expiresSec` 0 gives the single-contact
 * unREGISTER of §6.2; `"*"` the remove-all form (`Contact: *`, `Expires: 0`).
 */
export function buildRegister(rec: RegistrantRecord, expiresSec: number | "*", extras: RequestExtras): RegisterRequest {
  const { spec } = rec;
  return {
    requestUri: rec.registrar,
    ...(spec.proxy !== undefined && { proxy: spec.proxy }),
    ...(spec.forcedSocket !== undefined && { forcedSocket: spec.forcedSocket }),
    to: rec.aor,
    from: rec.from,
    fromTag: rec.fromTag,
    callId: rec.callId,
    cseq: rec.cseq,
    contact: expiresSec === "*" ? "*" : { uri: rec.contact, params: spec.bindingParams ?? "", expiresSec: expiresSec },
    ...(extras.userAgent !== undefined && { userAgent: extras.userAgent }),
    ...(extras.authorization !== undefined && { authorization: extras.authorization }),
  };
}

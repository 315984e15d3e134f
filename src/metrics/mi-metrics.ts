import type { MiDispatcher, MiOutcome } from "../mi/dispatch.js";
import { parseRequest } from "../mi/jsonrpc.js";
import type { Metrics, MiResult } from "./metrics.js";

/**
 * A dispatcher that counts every request by command and result, for every transport it is handed to
 * (mi_http, mi_fifo, mi_datagram, the events websocket). The command label is the registered full name, so
 * `reg_list` and `uac_registrant:list` count together and an unknown method name never becomes a label
 * (it is counted as `unknown`).
 */
export function instrumentMiDispatcher(inner: MiDispatcher, metrics: Pick<Metrics, "observeMiRequest">): MiDispatcher {
  return {
    registry: inner.registry,
    register: (commands) => inner.register(commands),
    async handle(text, transport) {
      const outcome = await inner.handle(text, transport);
      const req = parseRequest(text);
      let command = "unknown";
      if (req.ok) {
        const found = inner.registry.resolve(req.method);
        if (found.kind === "found") command = found.command.name;
      }
      metrics.observeMiRequest(command, req.ok ? result(outcome) : "invalid_request");
      return outcome;
    },
  };
}

function result(outcome: MiOutcome): MiResult {
  switch (outcome.kind) {
    case "reply":
      // printError writes the error member right after the version; never parse a 30 MB list reply again
      return outcome.text.startsWith('{"jsonrpc":"2.0","error"') ? "error" : "ok";
    case "parse-error":
      return "invalid_request";
    case "silent":
      return "notification";
    case "failed":
      return "failed";
  }
}
